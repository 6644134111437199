-- Labor-market indicators of migrants and hosts by year × population group × sex × region (all ages), with the raw
-- wage gap (migrant vs host) and the gender wage gap (female vs male): a wide view of the `indicators` mart, so
-- every number here is the design-based estimate published there (NULL where that estimate is suppressed or the
-- survey does not measure it, e.g. informality in ENPOVE).

{%- set estimates = ['employment_rate', 'unemployment_rate', 'informality_rate', 'labor_income_monthly_mean',
                     'hourly_income_mean', 'wage_gap_raw', 'gender_wage_gap'] %}

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
        -- unweighted counts of the universes: persons 14+ with a labor status, and the employed among them
        max(case when indicator_id = 'employment_rate' then n_unweighted end) as n_working_age,
        max(case when indicator_id = 'labor_income_monthly_mean' then n_unweighted end) as n_employed,
        {{ pivot_estimates(estimates) }}
    from indicators
    group by period, population_group, sex, region
)

select
    {{ dbt.safe_cast('period', dbt.type_int()) }} as year,
    {{ dbt.safe_cast('population_group', dbt.type_string()) }} as population_group,
    {{ dbt.safe_cast('sex', dbt.type_string()) }} as sex,
    {{ dbt.safe_cast('region', dbt.type_string()) }} as region,
    {{ dbt.safe_cast('coalesce(n_working_age, 0)', dbt.type_bigint()) }} as n_working_age,
    {{ dbt.safe_cast('coalesce(n_employed, 0)', dbt.type_bigint()) }} as n_employed,
    {{ cast_estimates(estimates) }}
from cells
where n_working_age is not null
