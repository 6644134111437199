-- People in Need / target rows that repeat a key (plan year, measure, place, subsector, population type, age/sex
-- group) must carry the same number: int_partner_need keeps one of identical repeats, it cannot choose between
-- conflicting ones. Returns the conflicting keys.
select plan_year, measure, country, admin1, subsector, population_type, age_sex_group,
       count(distinct people) as distinct_values
from {{ ref('stg_partners__need') }}
group by plan_year, measure, country, admin1, subsector, population_type, age_sex_group
having count(distinct people) > 1
