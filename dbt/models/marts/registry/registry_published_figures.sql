-- Published key figures (UNHCR Peru's DataInventory.csv: CEPR, Migraciones, INEI surveys), one row per figure,
-- next to our own figure of the same date where the warehouse has one. The reference_figure_measures seed maps a
-- figure's Spanish indicator text to our measure and population (nationality VEN or all):
--   unhcr    → int_unhcr_indicators of the figure's year (UNHCR's end-year stocks; CEPR 31/12/2024 ↔ UNHCR 2024),
--              population group 'migrant' for VEN, 'all' for every origin;
--   registry → the Migraciones extract of the month containing the figure's date (as of that month's last day):
--              persons of the nationality, registered / in a regular status / IRREGULAR, with the same k = 10
--              rule as registry_stock (a cell whose registered, regular or not-regular count is below k is
--              withheld whole; the irregular count also when it, or registered − irregular, is below k).
-- difference = ours − published, ratio = ours / published. Where we have no figure of that date, our columns are
-- NULL and `comparison` says why.

with

figures as (
    select * from {{ ref('stg_migraciones__reference_figures') }}
),

measures as (
    select
        lower(trim(indicator)) as indicator_key,
        our_source,
        our_measure,
        nationality,
        note
    from {{ ref('reference_figure_measures') }}
),

unhcr as (
    select
        indicator_id,
        period,
        case population_group when 'migrant' then 'VEN' else 'all' end as nationality,
        estimate
    from {{ ref('int_unhcr_indicators') }}
),

person_months as (
    select extract_month, as_of_date, nationality_iso3, is_regular, status
    from {{ ref('int_registry_person_months') }}
),

delivered_months as (
    select extract_month, max(as_of_date) as as_of_date
    from person_months
    group by extract_month
),

scoped_person_months as (
    select extract_month, 'VEN' as nationality, is_regular, status from person_months where nationality_iso3 = 'VEN'
    union all
    select extract_month, 'all' as nationality, is_regular, status from person_months
),

registry_counts as (
    select
        extract_month,
        nationality,
        count(*) as registered,
        {{ count_if('is_regular') }} as regular,
        {{ count_if("status = 'IRREGULAR'") }} as irregular
    from scoped_person_months
    group by extract_month, nationality
),

-- every delivered month × nationality (0 persons where none of that nationality), the k rule applied
registry_cells as (
    select
        delivered_months.extract_month,
        delivered_months.as_of_date,
        nationalities.nationality,
        coalesce(c.registered, 0) as registered,
        coalesce(c.regular, 0) as regular,
        coalesce(c.irregular, 0) as irregular
    from delivered_months
    cross join (
        select 'VEN' as nationality
        union all
        select 'all' as nationality
    ) as nationalities
    left join registry_counts as c
        on c.extract_month = delivered_months.extract_month
        and c.nationality = nationalities.nationality
),

registry_suppressed as (
    select
        *,
        (registered < {{ var('registry_min_count') }}
         or regular < {{ var('registry_min_count') }}
         or registered - regular < {{ var('registry_min_count') }}) as is_suppressed,
        (irregular < {{ var('registry_min_count') }}
         or registered - irregular < {{ var('registry_min_count') }}) as is_irregular_suppressed
    from registry_cells
),

registry as (
    select extract_month, as_of_date, nationality, 'registered_stock' as measure,
           case when not is_suppressed then registered end as value
    from registry_suppressed
    union all
    select extract_month, as_of_date, nationality, 'regular_stock' as measure,
           case when not is_suppressed then regular end as value
    from registry_suppressed
    union all
    select extract_month, as_of_date, nationality, 'irregular_stock' as measure,
           case when not (is_suppressed or is_irregular_suppressed) then irregular end as value
    from registry_suppressed
),

paired as (
    select
        f.*,
        m.our_source,
        m.our_measure,
        m.nationality as our_nationality,
        m.note as measure_note,
        case
            when m.our_source = 'unhcr' then u.period
            when m.our_source = 'registry' then r.extract_month
        end as our_period,
        case
            when m.our_source = 'unhcr' then u.estimate
            when m.our_source = 'registry' then r.value
        end as our_value,
        case
            when m.our_source = 'unhcr' then u.period is not null
            when m.our_source = 'registry' then r.extract_month is not null
            else false
        end as has_our_period,
        r.as_of_date as extract_as_of_date
    from figures as f
    left join measures as m
        on m.indicator_key = f.indicator_key
    left join unhcr as u
        on m.our_source = 'unhcr'
        and u.indicator_id = m.our_measure
        and u.nationality = m.nationality
        and u.period = {{ dbt.safe_cast('f.reference_year', dbt.type_string()) }}
    left join registry as r
        on m.our_source = 'registry'
        and r.measure = m.our_measure
        and r.nationality = m.nationality
        and r.extract_month = f.reference_month
),

compared as (
    select
        *,
        case
            when our_measure is null then 'no matching measure'
            when our_source = 'unhcr' and reference_year is null then 'no date'
            when our_source = 'registry' and reference_month is null then 'no month in the date'
            when our_source = 'unhcr' and not has_our_period then 'no UNHCR figure for that year'
            when our_source = 'registry' and not has_our_period then 'no extract for that month'
            when our_value is null then 'our figure suppressed (below 10)'
            when our_source = 'unhcr'
                and {{ dbt.safe_cast('reference_date', dbt.type_string()) }}
                    = {{ dbt.concat([dbt.safe_cast('reference_year', dbt.type_string()), "'-12-31'"]) }}
                then 'same date'
            when our_source = 'unhcr' then 'same year (UNHCR end-year figure)'
            when reference_date = extract_as_of_date then 'same date'
            else 'same month (extract as of the month end)'
        end as comparison
    from paired
)

select
    {{ dbt.safe_cast('topic', dbt.type_string()) }} as topic,
    {{ dbt.safe_cast('indicator', dbt.type_string()) }} as indicator,
    {{ dbt.safe_cast('publisher', dbt.type_string()) }} as publisher,
    {{ dbt.safe_cast('source_type', dbt.type_string()) }} as source_type,
    {{ dbt.safe_cast('reference_date', 'date') }} as reference_date,
    {{ dbt.safe_cast('reference_month', dbt.type_string()) }} as reference_month,
    {{ dbt.safe_cast('reference_year', dbt.type_int()) }} as reference_year,
    {{ dbt.safe_cast('date_as_sent', dbt.type_string()) }} as date_as_sent,
    {{ dbt.safe_cast('published_value', type_double()) }} as published_value,
    {{ dbt.safe_cast('value_as_sent', dbt.type_string()) }} as value_as_sent,
    {{ dbt.safe_cast('our_source', dbt.type_string()) }} as our_source,
    {{ dbt.safe_cast('our_measure', dbt.type_string()) }} as our_measure,
    {{ dbt.safe_cast('our_nationality', dbt.type_string()) }} as our_nationality,
    {{ dbt.safe_cast('case when has_our_period then our_period end', dbt.type_string()) }} as our_period,
    {{ dbt.safe_cast('our_value', type_double()) }} as our_value,
    {{ dbt.safe_cast('our_value - published_value', type_double()) }} as difference,
    {{ dbt.safe_cast('our_value / nullif(published_value, 0)', type_double()) }} as ratio,
    {{ dbt.safe_cast('comparison', dbt.type_string()) }} as comparison,
    {{ dbt.safe_cast('measure_note', dbt.type_string()) }} as measure_note,
    {{ dbt.safe_cast('visibility', dbt.type_string()) }} as visibility,
    {{ dbt.safe_cast('status', dbt.type_string()) }} as status,
    {{ dbt.safe_cast('comment', dbt.type_string()) }} as comment,
    {{ dbt.safe_cast('source_file', dbt.type_string()) }} as source_file,
    {{ dbt.safe_cast('source_row', dbt.type_int()) }} as source_row
from compared
