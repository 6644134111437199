-- R4V People in Need and targets side by side: one row per plan year × country × admin1 × subsector ×
-- population type × age/sex group.

with

need as (
    -- a row repeated word for word in R4V's sheet counts once (tests/assert_partner_need_repeats_agree.sql fails
    -- the build when a repeated key carries different numbers)
    select distinct plan_year, measure, country, admin1, subsector, population_type, age_sex_group, people
    from {{ ref('stg_partners__need') }}
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
