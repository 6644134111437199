-- R4V's country level ("Country level" rows of R/3_consolidated_report.R): per country × subsector × month, the
-- sums over admin1 of the sector consolidation (consolidation_model 'sector') and, as subsector 'Intersector', of
-- each intersector model ('sum', 'max_sector'); monthly and year to date (period_type).

with

sectors as (
    select * from {{ ref('int_partner_5w_pin_breakdowns') }}
),

intersector as (
    select * from {{ ref('r4v_intersector_consolidation') }}
    where period_type = 'month'
),

monthly as (
    select
        country,
        subsector,
        'sector' as consolidation_model,
        year,
        month
        {%- for m in r4v_measures() %},
        sum({{ m }}) as {{ m }}
        {%- endfor %}
    from sectors
    group by country, subsector, year, month
    union all
    select
        country,
        'Intersector' as subsector,
        consolidation_model,
        year,
        month
        {%- for m in r4v_measures() %},
        sum({{ m }}) as {{ m }}
        {%- endfor %}
    from intersector
    group by country, consolidation_model, year, month
),

periods as (
    {{ r4v_month_and_year_to_date('monthly', ['country', 'subsector', 'consolidation_model']) }}
)

select
    {{ dbt.safe_cast('country', dbt.type_string()) }} as country,
    {{ dbt.safe_cast('subsector', dbt.type_string()) }} as subsector,
    {{ dbt.safe_cast('consolidation_model', dbt.type_string()) }} as consolidation_model,
    {{ dbt.safe_cast('year', dbt.type_int()) }} as year,
    {{ dbt.safe_cast('month', dbt.type_string()) }} as month,
    {{ dbt.safe_cast('period_type', dbt.type_string()) }} as period_type,
    {{ r4v_typed_measures() }}
from periods
