-- R4V People in Need and targets side by side: one row per plan year × country × admin1 × subsector ×
-- population type × age/sex group.

with

need as (
    select * from {{ ref('stg_partners__need') }}
)

select
    plan_year,
    country,
    admin1,
    subsector,
    population_type,
    age_sex_group,
    sum(case when measure = 'pin' then people end) as people_in_need,
    sum(case when measure = 'target' then people end) as target
from need
group by plan_year, country, admin1, subsector, population_type, age_sex_group
