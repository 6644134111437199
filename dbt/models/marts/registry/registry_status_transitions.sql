-- Flows of the Migraciones registry into each extract month M from the calendar month before it (M−1), by
-- (from_status, to_status): `status_change` rows count persons in both extracts whose status differs (e.g.
-- IRREGULAR → CPP, SOLICITANTE_REFUGIO → REFUGIADO); `arriving` rows count persons in M but not in M−1
-- (from_status 'NOT_REGISTERED', to_status their status in M); `leaving` rows count persons in M−1 but not in M
-- (from_status their status in M−1, to_status 'LEFT_REGISTRY'). Persons are matched by their pseudonymous key.
-- A month whose previous calendar month was not delivered has no flows (no rows). Only non-zero flows have a row;
-- a flow below var('registry_min_count') is published as 'suppressed' with persons NULL.

with

person_months as (
    select extract_month, extract_month_start, person_key, status
    from {{ ref('int_registry_person_months') }}
),

months as (
    select distinct extract_month, extract_month_start
    from person_months
),

-- each delivered month M with its delivered previous calendar month
month_pairs as (
    select
        m.extract_month,
        previous.extract_month as previous_extract_month
    from months as m
    inner join months as previous
        on previous.extract_month_start
            = {{ dbt.safe_cast(dbt.dateadd('month', -1, 'm.extract_month_start'), 'date') }}
),

current_rows as (
    select p.extract_month, pm.person_key, pm.status
    from month_pairs as p
    inner join person_months as pm
        on pm.extract_month = p.extract_month
),

previous_rows as (
    select p.extract_month, pm.person_key, pm.status
    from month_pairs as p
    inner join person_months as pm
        on pm.extract_month = p.previous_extract_month
),

flows as (
    select
        coalesce(c.extract_month, b.extract_month) as extract_month,
        case
            when b.person_key is null then 'arriving'
            when c.person_key is null then 'leaving'
            else 'status_change'
        end as flow,
        coalesce(b.status, 'NOT_REGISTERED') as from_status,
        coalesce(c.status, 'LEFT_REGISTRY') as to_status
    from current_rows as c
    full outer join previous_rows as b
        on c.extract_month = b.extract_month
        and c.person_key = b.person_key
    where b.person_key is null
        or c.person_key is null
        or b.status <> c.status
),

counted as (
    select
        extract_month,
        flow,
        from_status,
        to_status,
        count(*) as persons
    from flows
    group by extract_month, flow, from_status, to_status
),

flagged as (
    select
        counted.*,
        {{ registry_is_small(['persons']) }} as is_suppressed
    from counted
)

select
    {{ dbt.safe_cast('extract_month', dbt.type_string()) }} as extract_month,
    {{ dbt.safe_cast('flow', dbt.type_string()) }} as flow,
    {{ dbt.safe_cast('from_status', dbt.type_string()) }} as from_status,
    {{ dbt.safe_cast('to_status', dbt.type_string()) }} as to_status,
    {{ dbt.safe_cast('case when not is_suppressed then persons end', dbt.type_bigint()) }} as persons,
    {{ registry_reliability('is_suppressed') }} as reliability
from flagged
