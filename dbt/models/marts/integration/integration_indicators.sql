-- Integration indicators of migrants and hosts by year × population group × sex × region (all ages): regular
-- migratory status (migrants only), formal employment, health insurance and written contracts. A wide view of the
-- `indicators` mart: every number is the design-based estimate published there (NULL where that estimate is
-- suppressed or the survey does not measure it).

{%- set estimates = ['regular_status_share', 'formal_employment_rate', 'health_insurance_rate', 'contract_rate'] %}

with

indicators as (
    select * from {{ ref('indicators') }}
    where age_group = 'all'
        and population_group in ('migrant', 'host')
        and domain <> 'registry'  -- survey estimates only: registry and UNHCR counts have their own marts
),

cells as (
    select
        period,
        population_group,
        sex,
        region,
        -- persons with a health-insurance answer: the widest universe (every age) of these indicators
        max(case when indicator_id = 'health_insurance_rate' then n_unweighted end) as n_persons,
        {{ pivot_estimates(estimates) }}
    from indicators
    group by period, population_group, sex, region
)

select
    {{ dbt.safe_cast('period', dbt.type_int()) }} as year,
    {{ dbt.safe_cast('population_group', dbt.type_string()) }} as population_group,
    {{ dbt.safe_cast('sex', dbt.type_string()) }} as sex,
    {{ dbt.safe_cast('region', dbt.type_string()) }} as region,
    {{ dbt.safe_cast('coalesce(n_persons, 0)', dbt.type_bigint()) }} as n_persons,
    {{ cast_estimates(estimates) }}
from cells
