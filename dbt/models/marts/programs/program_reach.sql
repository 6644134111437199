-- Partner program reach against need, per country × admin1 × subsector × month: new beneficiaries of PiN-type
-- indicators (valid 5W rows only), their year-to-date sum, and the year-to-date coverage of People in Need and
-- attainment of the target. Every admin1 × subsector with reach or with PiN > 0 has a row for every month present
-- in that country's 5W data of the year, with 0 new beneficiaries where nobody reported reach: the coverage gaps.

with

activities as (
    select * from {{ ref('int_partner_5w_activities') }}
    where is_valid
),

reach as (
    select
        country,
        admin1,
        subsector,
        activity_year as year,
        activity_month as month,
        sum(coalesce(new_beneficiaries, 0)) as new_beneficiaries
    from activities
    where indicator_type = 'PiN'
    group by country, admin1, subsector, activity_year, activity_month
),

need as (
    select
        plan_year as year,
        country,
        admin1,
        subsector,
        people_in_need,
        target
    from {{ ref('int_partner_need') }}
    where population_type = 'all'
        and age_sex_group = 'all'
),

months as (
    -- the months each country reported in the 5W of each year
    select distinct country, activity_year as year, activity_month as month
    from activities
),

cells as (
    select country, admin1, subsector, year from reach
    union
    -- 'Intersector' is R4V's cross-sector PiN, not a subsector that 5W rows report under
    select country, admin1, subsector, year from need
    where people_in_need > 0 and subsector <> 'Intersector'
),

grid as (
    select
        c.country,
        c.admin1,
        c.subsector,
        c.year,
        m.month
    from cells as c
    inner join months as m
        on m.country = c.country
        and m.year = c.year
),

monthly as (
    select
        g.country,
        g.admin1,
        g.subsector,
        g.year,
        g.month,
        coalesce(r.new_beneficiaries, 0) as new_beneficiaries,
        n.people_in_need,
        n.target
    from grid as g
    left join reach as r
        on r.country = g.country
        and r.admin1 = g.admin1
        and r.subsector = g.subsector
        and r.month = g.month
    left join need as n
        on n.country = g.country
        and n.admin1 = g.admin1
        and n.subsector = g.subsector
        and n.year = g.year
),

year_to_date as (
    select
        monthly.*,
        sum(new_beneficiaries) over (
            partition by country, admin1, subsector, year
            order by month
            rows between unbounded preceding and current row
        ) as new_beneficiaries_ytd
    from monthly
)

select
    {{ dbt.safe_cast('country', dbt.type_string()) }} as country,
    {{ dbt.safe_cast('admin1', dbt.type_string()) }} as admin1,
    {{ dbt.safe_cast('subsector', dbt.type_string()) }} as subsector,
    {{ dbt.safe_cast('month', dbt.type_string()) }} as month,
    {{ dbt.safe_cast('new_beneficiaries', type_double()) }} as new_beneficiaries,
    {{ dbt.safe_cast('new_beneficiaries_ytd', type_double()) }} as new_beneficiaries_ytd,
    {{ dbt.safe_cast('people_in_need', type_double()) }} as people_in_need,
    {{ dbt.safe_cast('target', type_double()) }} as target,
    {{ dbt.safe_cast('new_beneficiaries_ytd / nullif(people_in_need, 0)', type_double()) }} as coverage_rate_ytd,
    {{ dbt.safe_cast('new_beneficiaries_ytd / nullif(target, 0)', type_double()) }} as target_attainment_ytd
from year_to_date
