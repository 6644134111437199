{#- R4V consolidation helpers (R4V's R/3_consolidated_report.R, in portable SQL). -#}

{#- The five population types and six age/sex groups of a 5W row, as the suffixes of the `new_*` columns. -#}
{% macro r4v_population_types() -%}
    {{ return(['in_destination', 'in_transit', 'host_communities', 'pendulars', 'returnees']) }}
{%- endmacro %}

{% macro r4v_age_sex_groups() -%}
    {{ return(['girls', 'boys', 'women', 'men', 'other_under_18', 'other_above_18']) }}
{%- endmacro %}

{#- The age/sex groups People in Need is broken down by (Proportions.xlsx): the 5W's groups without the two
    "other" ones. -#}
{% macro r4v_pin_age_sex_groups() -%}
    {{ return(['girls', 'boys', 'women', 'men']) }}
{%- endmacro %}

{#- Consolidated figures that add up over months (new beneficiaries and their breakdowns). -#}
{% macro r4v_new_measures() -%}
    {%- set measures = ['new_beneficiaries'] -%}
    {%- for p in r4v_population_types() %}{% do measures.append('new_' ~ p) %}{% endfor -%}
    {%- for g in r4v_age_sex_groups() %}{% do measures.append('new_' ~ g) %}{% endfor -%}
    {%- do measures.append('new_cva_beneficiaries') -%}
    {{ return(measures) }}
{%- endmacro %}

{#- Every consolidated column: the additive ones plus R4V's monthly totals, which count a person again each month
    they are served and therefore have no year-to-date sum. -#}
{% macro r4v_measures() -%}
    {{ return(['monthly_total_beneficiaries', 'monthly_cva_beneficiaries'] + r4v_new_measures()) }}
{%- endmacro %}

{#- Monthly rows of `relation` (one per `keys` × year × month, months complete per country and year) plus their
    year-to-date rows: period_type 'month' | 'year_to_date'. The monthly totals are NULL on year-to-date rows. -#}
{% macro r4v_month_and_year_to_date(relation, keys) -%}
select
    {% for k in keys %}{{ k }}, {% endfor %}year, month, 'month' as period_type
    {%- for m in r4v_measures() %},
    {{ m }}
    {%- endfor %}
from {{ relation }}

union all

select
    {% for k in keys %}{{ k }}, {% endfor %}year, month, 'year_to_date' as period_type,
    null as monthly_total_beneficiaries,
    null as monthly_cva_beneficiaries
    {%- for m in r4v_new_measures() %},
    sum({{ m }}) over (
        partition by {% for k in keys %}{{ k }}, {% endfor %}year
        order by month
        rows between unbounded preceding and current row
    ) as {{ m }}
    {%- endfor %}
from {{ relation }}
{%- endmacro %}

{#- The published columns of a consolidation mart, typed. -#}
{% macro r4v_typed_measures() -%}
    {%- for m in r4v_measures() %}
    {{ dbt.safe_cast(m, type_double()) }} as {{ m }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}
