-- Time from last entry to the first regular status (var('regular_statuses')), by entry cohort (year of entry) and
-- sex ('male', 'female', and 'all'), over every delivered extract. For each person with at least one row in a
-- regular status: start = the earliest fecha_inicio_calidad among those rows; entry = fecha_ultimo_ingreso of the
-- row with that start (the earliest extract month if several); days = start − entry; cohort = year(entry); sex =
-- that row's. Per cohort × sex: persons, and the quartiles as percentile_disc — the value at 1-based position
-- ceil(p · persons) of the days sorted ascending (p = 0.25, 0.5, 0.75).
-- Caveats: (1) left-censoring — for people already regular in the first extract, the extracts only show their
-- current permit (e.g. a renewed CPP, or a residence that followed a PTP), so `start` is that permit's start and
-- the time to their FIRST regular status is overstated; (2) right-censoring — people not (yet) regular are not
-- counted, so recent cohorts lean towards quick regularizations; (3) a re-entry resets fecha_ultimo_ingreso.
-- A cohort × sex with fewer than var('registry_min_count') persons is 'suppressed' (persons and days NULL).

with

regular_rows as (
    select
        person_key,
        extract_month_start,
        sex,
        last_entry_date,
        status_start_date
    from {{ ref('int_registry_person_months') }}
    where is_regular
        and status_start_date is not null
        and last_entry_date is not null
),

first_regular as (
    select
        regular_rows.*,
        row_number() over (
            partition by person_key
            order by status_start_date, extract_month_start
        ) as row_rank
    from regular_rows
),

persons as (
    select
        {{ dbt.safe_cast('extract(year from last_entry_date)', dbt.type_int()) }} as entry_cohort,
        sex,
        {{ dbt.datediff('last_entry_date', 'status_start_date', 'day') }} as days
    from first_regular
    where row_rank = 1
),

by_sex_and_all as (
    select entry_cohort, sex, days from persons
    union all
    select entry_cohort, 'all' as sex, days from persons
),

ranked as (
    select
        entry_cohort,
        sex,
        days,
        row_number() over (partition by entry_cohort, sex order by days) as position,
        count(*) over (partition by entry_cohort, sex) as persons
    from by_sex_and_all
),

quartiles as (
    select
        entry_cohort,
        sex,
        max(persons) as persons,
        max(case when position = ceil(0.25 * persons) then days end) as q1_days,
        max(case when position = ceil(0.50 * persons) then days end) as median_days,
        max(case when position = ceil(0.75 * persons) then days end) as q3_days
    from ranked
    group by entry_cohort, sex
),

flagged as (
    select
        quartiles.*,
        {{ registry_is_small(['persons']) }} as is_suppressed
    from quartiles
)

select
    {{ dbt.safe_cast('entry_cohort', dbt.type_int()) }} as entry_cohort,
    {{ dbt.safe_cast('sex', dbt.type_string()) }} as sex,
    {{ dbt.safe_cast('case when not is_suppressed then persons end', dbt.type_bigint()) }} as persons,
    {{ dbt.safe_cast('case when not is_suppressed then q1_days end', dbt.type_int()) }} as q1_days,
    {{ dbt.safe_cast('case when not is_suppressed then median_days end', dbt.type_int()) }} as median_days,
    {{ dbt.safe_cast('case when not is_suppressed then q3_days end', dbt.type_int()) }} as q3_days,
    {{ registry_reliability('is_suppressed') }} as reliability
from flagged
