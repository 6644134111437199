-- UNHCR Refugee Data Finder figures for Peru as the country of asylum, per year, in the column layout of
-- `indicators` (the indicators mart unions these rows): population (refugees, asylum-seekers, other people in need
-- of international protection), asylum applications and decisions, and the refugee recognition rate.
-- population_group 'migrant' = origin Venezuela (coo_iso VEN), as the survey rows call Venezuelans; 'all' = every
-- origin. A table's rows of one year (procedure types, application types, decision levels, persons or cases) are
-- summed; a year with no row in a table counts 0 there. Counts below var('registry_min_count') (k = 10, zero
-- included) are published as 'suppressed' with a NULL estimate; so is the recognition rate when fewer than k
-- decisions on the merits were taken. UNHCR's aggregates carry no sampling error: se, ci, cv and n are NULL.

{%- set count_indicators = [
    'unhcr_refugees', 'unhcr_asylum_seekers', 'unhcr_oip', 'unhcr_asylum_applications',
    'unhcr_decisions_recognized', 'unhcr_decisions_complementary', 'unhcr_decisions_rejected',
    'unhcr_decisions_closed', 'unhcr_decisions_total',
] %}

with

population as (
    select year, origin_iso3, refugees, asylum_seekers, other_in_need_of_international_protection
    from {{ ref('stg_unhcr__population') }}
    where asylum_iso3 = 'PER'
),

applications as (
    select year, origin_iso3, applications
    from {{ ref('stg_unhcr__asylum_applications') }}
    where asylum_iso3 = 'PER'
),

decisions as (
    select year, origin_iso3, recognized, complementary_protection, rejected, otherwise_closed, total_decisions
    from {{ ref('stg_unhcr__asylum_decisions') }}
    where asylum_iso3 = 'PER'
),

-- one row per source row and count
measured as (
    select year, origin_iso3, 'unhcr_refugees' as indicator_id, refugees as value from population
    union all
    select year, origin_iso3, 'unhcr_asylum_seekers', asylum_seekers from population
    union all
    select year, origin_iso3, 'unhcr_oip', other_in_need_of_international_protection from population
    union all
    select year, origin_iso3, 'unhcr_asylum_applications', applications from applications
    union all
    select year, origin_iso3, 'unhcr_decisions_recognized', recognized from decisions
    union all
    select year, origin_iso3, 'unhcr_decisions_complementary', complementary_protection from decisions
    union all
    select year, origin_iso3, 'unhcr_decisions_rejected', rejected from decisions
    union all
    select year, origin_iso3, 'unhcr_decisions_closed', otherwise_closed from decisions
    union all
    select year, origin_iso3, 'unhcr_decisions_total', total_decisions from decisions
),

scoped as (
    select year, 'migrant' as population_group, indicator_id, value from measured where origin_iso3 = 'VEN'
    union all
    select year, 'all' as population_group, indicator_id, value from measured
),

summed as (
    select year, population_group, indicator_id, sum(value) as value
    from scoped
    group by year, population_group, indicator_id
),

-- every year with a row in any of the three tables gets every count (0 where a table has no row that year)
cells as (
    select distinct year, population_group from scoped where year is not null
),

indicator_list as (
    {%- for indicator_id in count_indicators %}
    select '{{ indicator_id }}' as indicator_id{{ ' union all' if not loop.last }}
    {%- endfor %}
),

counts as (
    select
        cells.year,
        cells.population_group,
        indicator_list.indicator_id,
        coalesce(summed.value, 0) as value
    from cells
    cross join indicator_list
    left join summed
        on summed.year = cells.year
        and summed.population_group = cells.population_group
        and summed.indicator_id = indicator_list.indicator_id
),

rates as (
    select
        year,
        population_group,
        'unhcr_recognition_rate' as indicator_id,
        sum(case when indicator_id = 'unhcr_decisions_recognized' then value else 0 end) as recognized,
        sum(case when indicator_id in ('unhcr_decisions_recognized', 'unhcr_decisions_complementary',
                                       'unhcr_decisions_rejected') then value else 0 end) as decided_on_merits
    from counts
    group by year, population_group
),

published as (
    select
        indicator_id,
        year,
        population_group,
        case when value >= {{ var('registry_min_count') }} then value end as estimate,
        'people' as unit,
        case when value >= {{ var('registry_min_count') }} then 'reliable' else 'suppressed' end as reliability
    from counts
    union all
    select
        indicator_id,
        year,
        population_group,
        case when decided_on_merits >= {{ var('registry_min_count') }}
            then recognized / nullif(decided_on_merits, 0) end as estimate,
        'share' as unit,
        case when decided_on_merits >= {{ var('registry_min_count') }} then 'reliable' else 'suppressed' end
            as reliability
    from rates
)

select
    {{ dbt.safe_cast('indicator_id', dbt.type_string()) }} as indicator_id,
    {{ dbt.safe_cast("'registry'", dbt.type_string()) }} as domain,
    {{ dbt.safe_cast("'unhcr'", dbt.type_string()) }} as source,
    {{ dbt.safe_cast('year', dbt.type_string()) }} as period,
    {{ dbt.safe_cast('population_group', dbt.type_string()) }} as population_group,
    {{ dbt.safe_cast("'all'", dbt.type_string()) }} as sex,
    {{ dbt.safe_cast("'all'", dbt.type_string()) }} as region,
    {{ dbt.safe_cast("'all'", dbt.type_string()) }} as age_group,
    {{ dbt.safe_cast('estimate', type_double()) }} as estimate,
    {{ dbt.safe_cast('null', type_double()) }} as se,
    {{ dbt.safe_cast('null', type_double()) }} as ci_low,
    {{ dbt.safe_cast('null', type_double()) }} as ci_high,
    {{ dbt.safe_cast('null', type_double()) }} as cv,
    {{ dbt.safe_cast('null', dbt.type_bigint()) }} as n_unweighted,
    {{ dbt.safe_cast('unit', dbt.type_string()) }} as unit,
    {{ dbt.safe_cast('reliability', dbt.type_string()) }} as reliability
from published
