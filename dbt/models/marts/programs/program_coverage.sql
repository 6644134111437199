-- Reached against People in Need and target, year to date, per country × admin1 × subsector × year, by sex and age
-- group. Reached = R4V's consolidated new beneficiaries (r4v_sector_consolidation) summed from January through the
-- last month the country reported that year (through_month). The 5W's six age/sex groups map onto the PiN sheet's
-- four: girls → female 0-17, boys → male 0-17, women → female 18+, men → male 18+; "other under/above 18" have no
-- PiN of their own (sex 'other', PiN NULL) but count in the age totals (sex 'all'), whose PiN is girls + boys or
-- women + men. Every admin1 × subsector with reach or with PiN > 0 has rows (0 reached where nobody reported: the
-- coverage gaps). Subsector 'Intersector' sets the max-sector intersector consolidation against R4V's Intersector
-- PiN. subsector_order puts Integration first.

{%- set groups = [
    ('all', 'all', 'new_beneficiaries', ['all']),
    ('female', '0-17', 'new_girls', ['girls']),
    ('male', '0-17', 'new_boys', ['boys']),
    ('female', '18+', 'new_women', ['women']),
    ('male', '18+', 'new_men', ['men']),
    ('other', '0-17', 'new_other_under_18', []),
    ('other', '18+', 'new_other_above_18', []),
    ('all', '0-17', 'new_girls + new_boys + new_other_under_18', ['girls', 'boys']),
    ('all', '18+', 'new_women + new_men + new_other_above_18', ['women', 'men']),
    ('female', 'all', 'new_girls + new_women', ['girls', 'women']),
    ('male', 'all', 'new_boys + new_men', ['boys', 'men']),
] %}

with

-- each subsector, and the max-sector intersector model against R4V's Intersector PiN (itself the maximum over
-- sectors of each PiN cell)
year_to_date as (
    select country, admin1, subsector, year, month, {{ r4v_new_measures() | join(', ') }}
    from {{ ref('r4v_sector_consolidation') }}
    where period_type = 'year_to_date'
    union all
    select country, admin1, 'Intersector' as subsector, year, month, {{ r4v_new_measures() | join(', ') }}
    from {{ ref('r4v_intersector_consolidation') }}
    where period_type = 'year_to_date'
        and consolidation_model = 'max_sector'
),

through_months as (
    select country, year, max(month) as through_month
    from year_to_date
    group by country, year
),

reached as (
    select y.*
    from year_to_date as y
    inner join through_months as t
        on t.country = y.country
        and t.year = y.year
        and t.through_month = y.month
),

need as (
    select
        plan_year as year,
        country,
        admin1,
        subsector
        {%- for sex, age_group, reached_expression, pin_groups in groups %}{% if pin_groups %},
        sum(case when age_sex_group in ('{{ pin_groups | join("', '") }}') then people_in_need end)
            as pin_{{ loop.index }},
        sum(case when age_sex_group in ('{{ pin_groups | join("', '") }}') then target end)
            as target_{{ loop.index }}
        {%- endif %}{% endfor %}
    from {{ ref('int_partner_need') }}
    where population_type = 'all'
    group by plan_year, country, admin1, subsector
),

cells as (
    select country, admin1, subsector, year from reached
    union
    select n.country, n.admin1, n.subsector, n.year
    from need as n
    inner join through_months as t
        on t.country = n.country
        and t.year = n.year
    where n.pin_1 > 0
),

cell_figures as (
    select
        c.country,
        c.admin1,
        c.subsector,
        c.year,
        t.through_month
        {%- for sex, age_group, reached_expression, pin_groups in groups %},
        coalesce({{ reached_expression | replace('new_', 'r.new_') }}, 0) as reached_{{ loop.index }}
        {%- endfor %}
        {%- for sex, age_group, reached_expression, pin_groups in groups %}{% if pin_groups %},
        n.pin_{{ loop.index }},
        n.target_{{ loop.index }}
        {%- endif %}{% endfor %}
    from cells as c
    inner join through_months as t
        on t.country = c.country
        and t.year = c.year
    left join reached as r
        on r.country = c.country
        and r.admin1 = c.admin1
        and r.subsector = c.subsector
        and r.year = c.year
    left join need as n
        on n.country = c.country
        and n.admin1 = c.admin1
        and n.subsector = c.subsector
        and n.year = c.year
),

by_group as (
    {%- for sex, age_group, reached_expression, pin_groups in groups %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select
        country, admin1, subsector, year, through_month,
        '{{ sex }}' as sex,
        '{{ age_group }}' as age_group,
        reached_{{ loop.index }} as new_beneficiaries_ytd,
        {%- if pin_groups %}
        pin_{{ loop.index }} as people_in_need,
        target_{{ loop.index }} as target
        {%- else %}
        null as people_in_need,
        null as target
        {%- endif %}
    from cell_figures
    {%- endfor %}
)

select
    {{ dbt.safe_cast('g.country', dbt.type_string()) }} as country,
    {{ dbt.safe_cast('g.admin1', dbt.type_string()) }} as admin1,
    {{ dbt.safe_cast('g.subsector', dbt.type_string()) }} as subsector,
    {{ dbt.safe_cast('coalesce(s.display_order, 98)', dbt.type_int()) }} as subsector_order,
    {{ dbt.safe_cast('g.year', dbt.type_int()) }} as year,
    {{ dbt.safe_cast('g.through_month', dbt.type_string()) }} as through_month,
    {{ dbt.safe_cast('g.sex', dbt.type_string()) }} as sex,
    {{ dbt.safe_cast('g.age_group', dbt.type_string()) }} as age_group,
    {{ dbt.safe_cast('g.new_beneficiaries_ytd', type_double()) }} as new_beneficiaries_ytd,
    {{ dbt.safe_cast('g.people_in_need', type_double()) }} as people_in_need,
    {{ dbt.safe_cast('g.target', type_double()) }} as target,
    {{ dbt.safe_cast('g.new_beneficiaries_ytd / nullif(g.people_in_need, 0)', type_double()) }} as coverage_rate,
    {{ dbt.safe_cast('g.new_beneficiaries_ytd / nullif(g.target, 0)', type_double()) }} as target_attainment,
    {{ dbt.safe_cast(
        'case when g.people_in_need > g.new_beneficiaries_ytd then g.people_in_need - g.new_beneficiaries_ytd '
        ~ 'when g.people_in_need is not null then 0 end', type_double()) }} as coverage_gap
from by_group as g
left join {{ ref('program_subsectors') }} as s
    on s.subsector = g.subsector
