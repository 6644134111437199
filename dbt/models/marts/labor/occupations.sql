-- Occupations open to migrants: per ISCO-08 major and sub-major group, the share of employed migrants and hosts who
-- work in it and the median hourly income of each, side by side, with confidence intervals and reliability.

with

estimates as (
    select * from {{ source('estimates', 'survey_occupations') }}
),

groups as (
    select * from {{ ref('isco08_groups') }}
),

cells as (
    select
        period,
        population_group,
        isco_level,
        isco_code,
        max(case when measure = 'employed_share' then source end) as source,
        max(case when measure = 'employed_share' then estimate end) as employed_share,
        max(case when measure = 'employed_share' then ci_low end) as employed_share_ci_low,
        max(case when measure = 'employed_share' then ci_high end) as employed_share_ci_high,
        max(case when measure = 'employed_share' then reliability end) as employed_share_reliability,
        max(case when measure = 'employed_share' then n_unweighted end) as n_employed,
        max(case when measure = 'median_hourly_income' then estimate end) as median_hourly_income,
        max(case when measure = 'median_hourly_income' then ci_low end) as median_hourly_income_ci_low,
        max(case when measure = 'median_hourly_income' then ci_high end) as median_hourly_income_ci_high,
        max(case when measure = 'median_hourly_income' then reliability end) as median_hourly_income_reliability,
        max(case when measure = 'median_hourly_income' then n_unweighted end) as n_with_hourly_income
    from estimates
    group by period, population_group, isco_level, isco_code
)

select
    {{ dbt.safe_cast('c.period', dbt.type_string()) }} as period,
    {{ dbt.safe_cast('c.source', dbt.type_string()) }} as source,
    {{ dbt.safe_cast('c.population_group', dbt.type_string()) }} as population_group,
    {{ dbt.safe_cast('c.isco_level', dbt.type_string()) }} as isco_level,
    {{ dbt.safe_cast('c.isco_code', dbt.type_string()) }} as isco_code,
    {{ dbt.safe_cast('g.isco_label', dbt.type_string()) }} as isco_label,
    {{ dbt.safe_cast('c.employed_share', type_double()) }} as employed_share,
    {{ dbt.safe_cast('c.employed_share_ci_low', type_double()) }} as employed_share_ci_low,
    {{ dbt.safe_cast('c.employed_share_ci_high', type_double()) }} as employed_share_ci_high,
    {{ dbt.safe_cast('c.employed_share_reliability', dbt.type_string()) }} as employed_share_reliability,
    {{ dbt.safe_cast('c.n_employed', dbt.type_bigint()) }} as n_employed,
    {{ dbt.safe_cast('c.median_hourly_income', type_double()) }} as median_hourly_income,
    {{ dbt.safe_cast('c.median_hourly_income_ci_low', type_double()) }} as median_hourly_income_ci_low,
    {{ dbt.safe_cast('c.median_hourly_income_ci_high', type_double()) }} as median_hourly_income_ci_high,
    {{ dbt.safe_cast('c.median_hourly_income_reliability', dbt.type_string()) }} as median_hourly_income_reliability,
    {{ dbt.safe_cast('c.n_with_hourly_income', dbt.type_bigint()) }} as n_with_hourly_income
from cells as c
left join groups as g
    on g.isco_level = c.isco_level and g.isco_code = c.isco_code
