{#- Small cross-database helpers. Everything dialect-specific lives here, behind adapter.dispatch, so the models
    themselves stay portable (DuckDB today, Spark later). -#}

{#- dbt's default safe_cast is a plain cast, which fails the whole model on one bad value. DuckDB has try_cast;
    Spark's cast already returns NULL on a bad value when ANSI mode is off (its default in Spark 3.x). -#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}


{#- An 8-byte floating point type (dbt.type_float is a 4-byte REAL on DuckDB). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}

{% macro postgres__type_double() -%}
    double precision
{%- endmacro %}


{#- Text that is a number ('12', '12.5', ' 3 ') as a double; anything else (blank, 'n/a', '1,200') as NULL. -#}
{% macro safe_number(field) -%}
    {{ dbt.safe_cast('nullif(trim(' ~ field ~ "), '')", type_double()) }}
{%- endmacro %}


{#- ISO text 'YYYY-MM-DD' as a date; any other text (e.g. '31/02/1990' kept by ingest so a check can name it) as NULL. -#}
{% macro safe_date(field) -%}
    {{ dbt.safe_cast('nullif(trim(' ~ field ~ "), '')", 'date') }}
{%- endmacro %}


{#- A 'YYYY-MM' month as the date of its first day; NULL when it is not a month. -#}
{% macro month_start(field) -%}
    {{ dbt.safe_cast(dbt.concat([field, "'-01'"]), 'date') }}
{%- endmacro %}


{#- Yes/no text in the forms partners send (true/false, 1/0, yes/no, sí/no, y/n, t/f) as a boolean. -#}
{% macro text_to_boolean(field) -%}
    case
        when lower(trim({{ field }})) in ('true', 't', '1', 'yes', 'y', 'si', 'sí') then true
        when lower(trim({{ field }})) in ('false', 'f', '0', 'no', 'n') then false
    end
{%- endmacro %}


{#- The two-digit department code that opens a 6-digit ubigeo; NULL when the ubigeo is not 6 digits. The caller
    joins the result to the departments seed, which also rejects codes outside 01..25. -#}
{% macro department_code_from_ubigeo(field) -%}
    case
        when length({{ field }}) = 6 and {{ dbt.safe_cast(field, dbt.type_bigint()) }} >= 0
            then substring({{ field }}, 1, 2)
    end
{%- endmacro %}


{#- Weighted ratio estimator sum(w * y) / sum(w) over the rows where `universe` holds, NULL when fewer than
    `min_n` rows (unweighted) are in the universe. `numerator` is a boolean condition or a number; rows outside
    the universe and rows without a weight do not count. -#}
{% macro weighted_ratio(numerator, weight, universe, min_n=none, numerator_is_value=false) -%}
    {%- set min_n = var('survey_min_n') if min_n is none else min_n -%}
    case
        when sum(case when ({{ universe }}) and {{ weight }} is not null then 1 else 0 end) >= {{ min_n }}
        then
            sum(case when ({{ universe }}) and {{ weight }} is not null
                     then {{ weight }} * {% if numerator_is_value %}{{ numerator }}{% else %}(case when {{ numerator }} then 1 else 0 end){% endif %}
                end)
            / nullif(sum(case when ({{ universe }}) and {{ weight }} is not null then {{ weight }} end), 0)
    end
{%- endmacro %}


{#- Unweighted count of the rows where `condition` holds (inside an aggregation). -#}
{% macro count_if(condition) -%}
    sum(case when {{ condition }} then 1 else 0 end)
{%- endmacro %}

{#- A text value as reference lists are matched on: trimmed, lower case, common Spanish/Portuguese accents removed
    (translate() exists on DuckDB and Spark), like the load-time row rules' folded keys. -#}
{% macro text_key(expression) -%}
    translate(lower(trim({{ expression }})), 'áàäâãéèëêíìïîóòöôõúùüûñç', 'aaaaaeeeeiiiiooooouuuunc')
{%- endmacro %}
