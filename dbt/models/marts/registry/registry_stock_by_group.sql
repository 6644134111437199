-- The Migraciones registry stock in its finest published cube: one row per extract month × status × sex × age band
-- × department of residence × nationality that has at least one person (empty cells have no row). `persons` is
-- the count of the cell; a cell below var('registry_min_count') is published as 'suppressed' with persons NULL.
-- Only the cell itself is suppressed (no secondary suppression): sums over rows of this cube must not be used to
-- recover margins; registry_stock and registry_regular_share publish the margins, with their own suppression.

with

person_months as (
    select
        extract_month,
        status,
        is_regular,
        sex,
        age_band,
        department,
        nationality_iso3 as nationality
    from {{ ref('int_registry_person_months') }}
),

cells as (
    select
        extract_month,
        status,
        is_regular,
        sex,
        age_band,
        department,
        nationality,
        count(*) as persons
    from person_months
    group by extract_month, status, is_regular, sex, age_band, department, nationality
),

flagged as (
    select
        cells.*,
        {{ registry_is_small(['persons']) }} as is_suppressed
    from cells
)

select
    {{ dbt.safe_cast('extract_month', dbt.type_string()) }} as extract_month,
    {{ dbt.safe_cast('status', dbt.type_string()) }} as status,
    {{ dbt.safe_cast('is_regular', dbt.type_boolean()) }} as is_regular_status,
    {{ dbt.safe_cast('sex', dbt.type_string()) }} as sex,
    {{ dbt.safe_cast('age_band', dbt.type_string()) }} as age_band,
    {{ dbt.safe_cast('department', dbt.type_string()) }} as department,
    {{ dbt.safe_cast('nationality', dbt.type_string()) }} as nationality,
    {{ dbt.safe_cast('case when not is_suppressed then persons end', dbt.type_bigint()) }} as persons,
    {{ registry_reliability('is_suppressed') }} as reliability
from flagged
