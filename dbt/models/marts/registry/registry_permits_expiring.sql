-- Permits about to expire, the list NGOs act on (as counts only): per extract month M, department of residence
-- (plus 'all') and horizon d (var('registry_expiry_horizons'): 30, 60, 90 days), the persons in M's extract whose
-- permit expires after the as-of date (M's last day) and at most d days after it: as_of < fecha_vencimiento <=
-- as_of + d. Every department with persons in M's extract gets a row per horizon, so a department with no
-- expiring permit reads 0 — suppressed, like every count below var('registry_min_count') (persons NULL).

with

person_months as (
    select
        extract_month,
        department,
        {{ dbt.datediff('as_of_date', 'permit_expiry_date', 'day') }} as days_to_expiry
    from {{ ref('int_registry_person_months') }}
),

horizons as (
    {{ registry_expiry_horizon_rows() }}
),

aggregated as (
    select
        p.extract_month,
        p.department,
        grouping(p.department) as is_all_departments,
        h.horizon_days,
        {{ count_if('p.days_to_expiry > 0 and p.days_to_expiry <= h.horizon_days') }} as persons
    from person_months as p
    cross join horizons as h
    group by grouping sets (
        (p.extract_month, h.horizon_days, p.department),
        (p.extract_month, h.horizon_days)
    )
),

cells as (
    select
        extract_month,
        case when is_all_departments = 1 then 'all' else department end as department,
        horizon_days,
        persons,
        {{ registry_is_small(['persons']) }} as is_suppressed
    from aggregated
)

select
    {{ dbt.safe_cast('extract_month', dbt.type_string()) }} as extract_month,
    {{ dbt.safe_cast('department', dbt.type_string()) }} as department,
    {{ dbt.safe_cast('horizon_days', dbt.type_int()) }} as horizon_days,
    {{ dbt.safe_cast('case when not is_suppressed then persons end', dbt.type_bigint()) }} as persons,
    {{ registry_reliability('is_suppressed') }} as reliability
from cells
