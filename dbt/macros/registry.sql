{#- Helpers of the Migraciones registry models (intermediate and marts). Portable SQL only: `extract(... from ...)`
    is ANSI and runs on DuckDB, Spark and Postgres; the date arithmetic goes through dbt's cross-db macros. -#}


{#- Age in completed years on `as_of`: the difference of the calendar years, minus one when the birthday of that
    year is still to come (the (month, day) of `as_of` before that of `birth`). A person born on 29 February turns a
    year older on 1 March in non-leap years. NULL when either date is NULL. -#}
{% macro completed_years(birth, as_of) -%}
    (extract(year from {{ as_of }}) - extract(year from {{ birth }})
        - case
            when extract(month from {{ as_of }}) < extract(month from {{ birth }})
                or (extract(month from {{ as_of }}) = extract(month from {{ birth }})
                    and extract(day from {{ as_of }}) < extract(day from {{ birth }}))
            then 1
            else 0
        end)
{%- endmacro %}


{#- The registry's age bands, as the first age of each band (ascending, starting at 0). The lead may move them to
    dbt_project.yml as `registry_age_band_starts`; until then the default here applies ('0-17', '18-29', '30-44',
    '45-59', '60+'). -#}
{% macro registry_age_band_starts() -%}
    {{ return(var('registry_age_band_starts', [0, 18, 30, 45, 60])) }}
{%- endmacro %}

{#- The label of each band ('18-29'; the last one open: '60+'), in order. -#}
{% macro registry_age_band_labels() -%}
    {%- set starts = registry_age_band_starts() -%}
    {%- set labels = [] -%}
    {%- for start in starts -%}
        {%- if loop.last -%}
            {%- do labels.append(start ~ '+') -%}
        {%- else -%}
            {%- do labels.append(start ~ '-' ~ (starts[loop.index] - 1)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(labels) }}
{%- endmacro %}

{#- The band of an age in completed years; NULL for a NULL or negative age. -#}
{% macro registry_age_band(age) -%}
    {%- set starts = registry_age_band_starts() -%}
    {%- set labels = registry_age_band_labels() -%}
    case
        {%- for start in starts | reverse %}
        when {{ age }} >= {{ start }} then '{{ labels[starts | length - loop.index] }}'
        {%- endfor %}
    end
{%- endmacro %}


{#- The SQL list of the regular statuses, for `status in (...)`. -#}
{% macro registry_regular_status_list() -%}
    {%- for status in var('regular_statuses') %}'{{ status }}'{{ ", " if not loop.last }}{% endfor -%}
{%- endmacro %}


{#- The permit-expiry horizons (days) of registry_permits_expiring and the expiring_<d>d indicators. -#}
{% macro registry_expiry_horizons() -%}
    {{ return(var('registry_expiry_horizons', [30, 60, 90])) }}
{%- endmacro %}

{#- The horizons as rows of one column `horizon_days`, to cross join with. -#}
{% macro registry_expiry_horizon_rows() -%}
    {%- for horizon in registry_expiry_horizons() %}
    select {{ horizon }} as horizon_days{{ ' union all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#- k-anonymity: true when any of the given counts is below var('registry_min_count'). -#}
{% macro registry_is_small(counts) -%}
    ({%- for count in counts %}{{ count }} < {{ var('registry_min_count') }}{{ ' or ' if not loop.last }}{% endfor -%})
{%- endmacro %}

{#- The reliability label of a cell flagged by `is_suppressed`. -#}
{% macro registry_reliability(is_suppressed) -%}
    {{ dbt.safe_cast("case when " ~ is_suppressed ~ " then 'suppressed' else 'reliable' end", dbt.type_string()) }}
{%- endmacro %}


{#- The window an incremental build of int_registry_status_history must redo, from the extract months loaded since
    its last build: `cutoff` = the earliest such month (none: nothing to redo), `previous` = the last delivered month
    before it (none: rebuild from the first month). A new month at the end gives cutoff = that month; a late or
    re-delivered month in the middle gives cutoff = that month, and everything after it is redone. -#}
{% macro registry_history_window(history) -%}
    {%- set window = {'cutoff': none, 'previous': none} -%}
    {%- if execute and is_incremental() -%}
        {%- set months = ref('int_registry_extract_months') -%}
        {%- set query -%}
            select
                min(m.extract_month) as cutoff,
                (select max(p.extract_month) from {{ months }} as p
                 where p.extract_month < min(m.extract_month)) as previous_month
            from {{ months }} as m
            where m.loaded_at > (select max(h.built_from_loads_until) from {{ history }} as h)
        {%- endset -%}
        {%- set row = run_query(query).rows[0] -%}
        {%- do window.update({'cutoff': row[0], 'previous': row[1]}) -%}
    {%- endif -%}
    {{ return(window) }}
{%- endmacro %}


{#- The pre-hook of int_registry_status_history: spells that start inside the window are removed (they are rebuilt
    from the extracts; one that no longer exists, e.g. after a re-delivery, must not linger). Spells that start before
    it are rebuilt by the model and replace their old row through the (person_key, first_month) key. -#}
{% macro registry_history_prune(history) -%}
    {%- set window = registry_history_window(history) -%}
    {%- if window.cutoff is not none -%}
        delete from {{ history }} where first_month >= {{ dbt.string_literal(window.cutoff) }}
    {%- else -%}
        select 1 as nothing_to_prune
    {%- endif -%}
{%- endmacro %}
