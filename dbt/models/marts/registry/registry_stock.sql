-- The Migraciones registry stock per extract month and department of residence (plus the 'all' total and an
-- 'unknown' department for an empty or invalid ubigeo): registered persons, those in a regular status and their
-- share. A cell where any count it publishes or implies (registered, regular, and registered − regular, which the
-- first two reveal) is below var('registry_min_count') is published as 'suppressed' with counts and share NULL.

with

person_months as (
    select
        extract_month,
        coalesce(department_name, 'unknown') as department,
        is_regular
    from {{ ref('int_registry_person_months') }}
),

aggregated as (
    select
        extract_month,
        department,
        grouping(department) as is_all_departments,
        count(*) as registered_stock,
        {{ count_if('is_regular') }} as regular_stock
    from person_months
    group by grouping sets (
        (extract_month, department),
        (extract_month)
    )
),

cells as (
    select
        extract_month,
        case when is_all_departments = 1 then 'all' else department end as department,
        (registered_stock < {{ var('registry_min_count') }}
         or regular_stock < {{ var('registry_min_count') }}
         or registered_stock - regular_stock < {{ var('registry_min_count') }}) as is_suppressed,
        registered_stock,
        regular_stock
    from aggregated
)

select
    {{ dbt.safe_cast('extract_month', dbt.type_string()) }} as extract_month,
    {{ dbt.safe_cast('department', dbt.type_string()) }} as department,
    {{ dbt.safe_cast('case when not is_suppressed then registered_stock end', dbt.type_bigint()) }}
        as registered_stock,
    {{ dbt.safe_cast('case when not is_suppressed then regular_stock end', dbt.type_bigint()) }} as regular_stock,
    {{ dbt.safe_cast('case when not is_suppressed then regular_stock * 1.0 / registered_stock end', type_double()) }}
        as regular_share,
    {{ dbt.safe_cast("case when is_suppressed then 'suppressed' else 'reliable' end", dbt.type_string()) }}
        as reliability
from cells
