{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['person_key', 'first_month'],
    pre_hook="{{ registry_history_prune(this) }}",
    on_schema_change='fail'
) }}

-- Each person's status over time, built from the sequence of Migraciones extracts (slowly changing dimension,
-- type 2): one row per spell in which the person's status, its start date and the permit's expiry stayed the same
-- in consecutive delivered extracts.
--   first_month / last_month   the first and last extract month the spell was seen in
--   valid_from / valid_to      the last day of first_month / of the first extract month the spell no longer held
--                              (NULL while it still holds: is_current)
--   end_reason                 'status_changed' (the next extract shows another status, start or expiry),
--                              'left_registry' (the person is absent from the next extract: closed, not deleted;
--                              a later reappearance opens a new spell), NULL while current.
-- "Consecutive" follows the delivered months: a month never delivered does not break a spell.
--
-- Incremental, not a dbt snapshot (snapshots need Delta on Spark, and a snapshot cannot take months out of
-- order). Each build redoes only the window from the earliest extract month loaded since the previous build
-- (macro registry_history_window): spells starting inside it are deleted by the pre-hook and rebuilt from the
-- extracts; a spell running into it is cut back to the month before and rebuilt, joined with the window's rows.
-- A new month at the end touches the open spells and the new rows only; a late or re-delivered month redoes
-- everything after it. tests/test_registry_history.py checks each case against a full rebuild.

{%- set window = registry_history_window(this) %}
{%- set rebuild_all = not is_incremental() or window.previous is none %}

with

months as (
    select
        extract_month,
        extract_month_start,
        loaded_at,
        row_number() over (order by extract_month) as month_index
    from {{ ref('int_registry_extract_months') }}
),

last_delivered as (
    select max(month_index) as month_index from months
),

window_rows as (
    -- the extract rows to (re)build from: each is a one-month segment of its spell
    select
        p.person_key,
        p.status,
        p.status_start_date,
        p.permit_expiry_date,
        p.is_regular,
        p.sex,
        p.nationality_iso3,
        p.birth_date,
        p.last_entry_date,
        p.department_code,
        p.extract_month as segment_first_month,
        p.extract_month as segment_last_month
    from {{ ref('int_registry_person_months') }} as p
    {%- if is_incremental() and window.cutoff is not none %}
    where p.extract_month >= '{{ window.cutoff }}'
    {%- elif is_incremental() %}
    where 1 = 0  -- no extract loaded since the last build: nothing to redo
    {%- endif %}
),

{%- if is_incremental() and window.cutoff is not none and not rebuild_all %}

carried_spells as (
    -- spells that started before the window and were still running at its edge: cut back to the month before
    -- the window, so the window's rows can extend, change or close them
    select
        h.person_key,
        h.status,
        h.status_start_date,
        h.permit_expiry_date,
        h.is_regular,
        h.sex,
        h.nationality_iso3,
        h.birth_date,
        h.last_entry_date,
        h.department_code,
        h.first_month as segment_first_month,
        case when h.last_month > '{{ window.previous }}' then '{{ window.previous }}' else h.last_month end
            as segment_last_month
    from {{ this }} as h
    where h.first_month < '{{ window.cutoff }}'
        and h.last_month >= '{{ window.previous }}'
),

segments_unindexed as (
    select * from carried_spells
    union all
    select * from window_rows
),

{%- else %}

segments_unindexed as (
    select * from window_rows
),

{%- endif %}

segments as (
    select
        s.*,
        first_m.month_index as first_index,
        last_m.month_index as last_index,
        {{ dbt.concat([
            's.status', "'|'",
            "coalesce(" ~ dbt.safe_cast('s.status_start_date', dbt.type_string()) ~ ", '')", "'|'",
            "coalesce(" ~ dbt.safe_cast('s.permit_expiry_date', dbt.type_string()) ~ ", '')"
        ]) }} as state
    from segments_unindexed as s
    inner join months as first_m on s.segment_first_month = first_m.extract_month
    inner join months as last_m on s.segment_last_month = last_m.extract_month
),

flagged as (
    select
        segments.*,
        case
            when lag(last_index) over (partition by person_key order by first_index) = first_index - 1
                and lag(state) over (partition by person_key order by first_index) = state
            then 0
            else 1
        end as starts_spell
    from segments
),

numbered as (
    select
        flagged.*,
        sum(starts_spell) over (
            partition by person_key order by first_index rows between unbounded preceding and current row
        ) as spell_number
    from flagged
),

spell_bounds as (
    select
        person_key,
        spell_number,
        min(first_index) as first_index,
        max(last_index) as last_index
    from numbered
    group by person_key, spell_number
),

spells as (
    select
        b.person_key,
        b.first_index,
        b.last_index,
        lead(b.first_index) over (partition by b.person_key order by b.first_index) as next_first_index,
        n.status,
        n.status_start_date,
        n.permit_expiry_date,
        n.is_regular,
        n.sex,
        n.nationality_iso3,
        n.birth_date,
        n.last_entry_date,
        n.department_code
    from spell_bounds as b
    inner join numbered as n
        on n.person_key = b.person_key
        and n.spell_number = b.spell_number
        and n.first_index = b.first_index
)

select
    s.person_key,
    {{ dbt.safe_cast('first_m.extract_month', dbt.type_string()) }} as first_month,
    {{ dbt.safe_cast('last_m.extract_month', dbt.type_string()) }} as last_month,
    {{ dbt.last_day('first_m.extract_month_start', 'month') }} as valid_from,
    case when s.last_index < ld.month_index then {{ dbt.last_day('after_m.extract_month_start', 'month') }} end
        as valid_to,
    {{ dbt.safe_cast("case when s.last_index = ld.month_index then null when s.next_first_index = s.last_index + 1 "
                     "then 'status_changed' else 'left_registry' end", dbt.type_string()) }} as end_reason,
    s.last_index = ld.month_index as is_current,
    s.status,
    s.status_start_date,
    s.permit_expiry_date,
    s.is_regular,
    s.sex,
    s.nationality_iso3,
    s.birth_date,
    s.last_entry_date,
    s.department_code,
    (select max(loaded_at) from months) as built_from_loads_until
from spells as s
cross join last_delivered as ld
inner join months as first_m on s.first_index = first_m.month_index
inner join months as last_m on s.last_index = last_m.month_index
left join months as after_m on after_m.month_index = s.last_index + 1
