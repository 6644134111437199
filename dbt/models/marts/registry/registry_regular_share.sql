-- The share of the Migraciones registry in a regular status (var('regular_statuses')) per extract month, for the
-- whole registry and by one dimension at a time (sex, age band, department of residence, nationality) plus
-- department × sex; a dimension that a row does not break down by reads 'all'. A row where any count it publishes
-- or implies (registered, regular, and registered − regular, which the first two reveal) is below
-- var('registry_min_count') is published as 'suppressed' with counts and share NULL, as in registry_stock. No
-- secondary suppression: a suppressed department × sex row can be recovered from its department row and the other
-- sex where both are published.

with

person_months as (
    select
        extract_month,
        sex,
        age_band,
        department,
        nationality_iso3 as nationality,
        is_regular
    from {{ ref('int_registry_person_months') }}
),

aggregated as (
    select
        extract_month,
        sex,
        age_band,
        department,
        nationality,
        grouping(sex) as is_all_sexes,
        grouping(age_band) as is_all_age_bands,
        grouping(department) as is_all_departments,
        grouping(nationality) as is_all_nationalities,
        count(*) as registered,
        {{ count_if('is_regular') }} as regular
    from person_months
    group by grouping sets (
        (extract_month),
        (extract_month, sex),
        (extract_month, age_band),
        (extract_month, department),
        (extract_month, nationality),
        (extract_month, department, sex)
    )
),

cells as (
    select
        extract_month,
        case when is_all_sexes = 1 then 'all' else sex end as sex,
        case when is_all_age_bands = 1 then 'all' else age_band end as age_band,
        case when is_all_departments = 1 then 'all' else department end as department,
        case when is_all_nationalities = 1 then 'all' else nationality end as nationality,
        registered,
        regular,
        {{ registry_is_small(['registered', 'regular', 'registered - regular']) }} as is_suppressed
    from aggregated
)

select
    {{ dbt.safe_cast('extract_month', dbt.type_string()) }} as extract_month,
    {{ dbt.safe_cast('sex', dbt.type_string()) }} as sex,
    {{ dbt.safe_cast('age_band', dbt.type_string()) }} as age_band,
    {{ dbt.safe_cast('department', dbt.type_string()) }} as department,
    {{ dbt.safe_cast('nationality', dbt.type_string()) }} as nationality,
    {{ dbt.safe_cast('case when not is_suppressed then registered end', dbt.type_bigint()) }} as registered,
    {{ dbt.safe_cast('case when not is_suppressed then regular end', dbt.type_bigint()) }} as regular,
    {{ dbt.safe_cast('case when not is_suppressed then regular * 1.0 / registered end', type_double()) }}
        as regular_share,
    {{ registry_reliability('is_suppressed') }} as reliability
from cells
