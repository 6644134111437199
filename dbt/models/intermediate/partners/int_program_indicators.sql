-- The program indicators (domain 'programs', source 'r4v_5w') in the column layout of `indicators`: R4V's
-- consolidation and coverage, one id per measure × subsector (the subsector's id from the program_subsectors seed;
-- a subsector missing there is left out here, see the seed's description):
--   new_beneficiaries_<subsector>                consolidated new beneficiaries of the month (period 'YYYY-MM'),
--   new_beneficiaries_intersector_sum / _max_sector    the two intersector models,
--   coverage_rate_<subsector>, target_attainment_<subsector>, coverage_gap_<subsector>
--                                                year to date through the last reported month (period 'YYYY'),
--                                                'intersector' = the max-sector model against the Intersector PiN;
-- region = admin1, or 'all' for the country level (consolidation only: PiN is set by admin1); sex × age_group from
-- the 5W's age/sex groups (girls = female 0-17, boys = male 0-17, women = female 18+, men = male 18+; the "other"
-- groups count only where sex is 'all'). k-anonymity as in the registry rows: a figure resting on fewer than
-- var('registry_min_count') people reached (1 to 9; 0 reached is shown) is 'suppressed', estimate and n_unweighted
-- NULL. n_unweighted = the people reached behind the figure. Only var("programs_country")'s rows (indicators has no
-- country column; the program marts keep every country).

{%- set age_sex_cells = [
    ('all', 'all', 'new_beneficiaries'),
    ('female', '0-17', 'new_girls'),
    ('male', '0-17', 'new_boys'),
    ('female', '18+', 'new_women'),
    ('male', '18+', 'new_men'),
    ('all', '0-17', 'new_girls + new_boys + new_other_under_18'),
    ('all', '18+', 'new_women + new_men + new_other_above_18'),
    ('female', 'all', 'new_girls + new_women'),
    ('male', 'all', 'new_boys + new_men'),
] %}
{%- set k = var('registry_min_count') %}

with

subsectors as (
    select subsector, subsector_id from {{ ref('program_subsectors') }}
),

-- monthly consolidated figures per region: admin1 rows and the country level
consolidated as (
    select
        {{ dbt.concat(["'new_beneficiaries_'", 's.subsector_id']) }} as indicator_id,
        c.month as period,
        c.admin1 as region,
        c.new_beneficiaries, c.new_girls, c.new_boys, c.new_women, c.new_men,
        c.new_other_under_18, c.new_other_above_18
    from {{ ref('r4v_sector_consolidation') }} as c
    inner join subsectors as s
        on s.subsector = c.subsector
    where c.period_type = 'month'
        and c.country = '{{ var("programs_country") }}'
    union all
    select
        {{ dbt.concat(["'new_beneficiaries_intersector_'", 'consolidation_model']) }} as indicator_id,
        month as period,
        admin1 as region,
        new_beneficiaries, new_girls, new_boys, new_women, new_men, new_other_under_18, new_other_above_18
    from {{ ref('r4v_intersector_consolidation') }}
    where period_type = 'month'
        and country = '{{ var("programs_country") }}'
    union all
    select
        case
            when c.consolidation_model = 'sector' then {{ dbt.concat(["'new_beneficiaries_'", 's.subsector_id']) }}
            else {{ dbt.concat(["'new_beneficiaries_intersector_'", 'c.consolidation_model']) }}
        end as indicator_id,
        c.month as period,
        'all' as region,
        c.new_beneficiaries, c.new_girls, c.new_boys, c.new_women, c.new_men,
        c.new_other_under_18, c.new_other_above_18
    from {{ ref('r4v_country_consolidation') }} as c
    inner join subsectors as s
        on s.subsector = c.subsector
    where c.period_type = 'month'
        and c.country = '{{ var("programs_country") }}'
),

consolidated_cells as (
    {%- for sex, age_group, expression in age_sex_cells %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select
        indicator_id, period, region,
        '{{ sex }}' as sex,
        '{{ age_group }}' as age_group,
        'people' as unit,
        {{ expression }} as estimate,
        {{ expression }} as reached
    from consolidated
    {%- endfor %}
),

coverage as (
    select
        s.subsector_id,
        {{ dbt.safe_cast('c.year', dbt.type_string()) }} as period,
        c.admin1 as region,
        c.sex,
        c.age_group,
        c.new_beneficiaries_ytd as reached,
        c.coverage_rate,
        c.target_attainment,
        c.coverage_gap
    from {{ ref('program_coverage') }} as c
    inner join subsectors as s
        on s.subsector = c.subsector
    where c.sex <> 'other'
        and c.country = '{{ var("programs_country") }}'
),

coverage_cells as (
    {%- for measure, unit in [('coverage_rate', 'ratio'), ('target_attainment', 'ratio'), ('coverage_gap', 'people')] %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select
        {{ dbt.concat(["'" ~ measure ~ "_'", 'subsector_id']) }} as indicator_id,
        period, region, sex, age_group,
        '{{ unit }}' as unit,
        {{ measure }} as estimate,
        reached
    from coverage
    where {{ measure }} is not null
    {%- endfor %}
),

indicator_rows as (
    select * from consolidated_cells
    union all
    select * from coverage_cells
)

select
    {{ dbt.safe_cast('indicator_id', dbt.type_string()) }} as indicator_id,
    {{ dbt.safe_cast("'programs'", dbt.type_string()) }} as domain,
    {{ dbt.safe_cast("'r4v_5w'", dbt.type_string()) }} as source,
    {{ dbt.safe_cast('period', dbt.type_string()) }} as period,
    {{ dbt.safe_cast("'all'", dbt.type_string()) }} as population_group,
    {{ dbt.safe_cast('sex', dbt.type_string()) }} as sex,
    {{ dbt.safe_cast('region', dbt.type_string()) }} as region,
    {{ dbt.safe_cast('age_group', dbt.type_string()) }} as age_group,
    {{ dbt.safe_cast('case when reached > 0 and reached < ' ~ k ~ ' then null else estimate end', type_double()) }}
        as estimate,
    {{ dbt.safe_cast('null', type_double()) }} as se,
    {{ dbt.safe_cast('null', type_double()) }} as ci_low,
    {{ dbt.safe_cast('null', type_double()) }} as ci_high,
    {{ dbt.safe_cast('null', type_double()) }} as cv,
    {{ dbt.safe_cast('case when reached > 0 and reached < ' ~ k ~ ' then null else reached end', dbt.type_bigint()) }}
        as n_unweighted,
    {{ dbt.safe_cast('unit', dbt.type_string()) }} as unit,
    {{ registry_reliability('reached > 0 and reached < ' ~ k) }} as reliability
from indicator_rows
