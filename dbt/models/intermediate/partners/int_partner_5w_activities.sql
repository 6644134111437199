-- Every 5W activity row of every country (none is filtered out here), with typed counts, the subsector and
-- indicator in English (Spanish names mapped through the coordinator's indicator list), the indicator type, and
-- R4V's reference-list checks: a row whose organization, location (country × admin1 of Proportions.xlsx) or
-- sector–indicator pair is not in the lists, or whose month is not a month, is quarantined with that reason
-- (is_valid = false) and is left out of every consolidated figure. Each list is the landing zone's when it has
-- landed, else the project's default seed: the same choice the load-time row rules make
-- (dagster_project/sources/partners/fivew_rules.py), so a row that loaded passes here too
-- (tests/assert_loaded_5w_rows_pass_the_reference_checks.sql holds that).

with

activities as (
    select * from {{ ref('stg_partners__5w_activities') }}
),

landed_indicators as (
    select subsector, subsector_es, indicator, indicator_es, indicator_type
    from {{ ref('stg_partners__indicators') }}
),

indicator_reference as (
    select * from landed_indicators
    union all
    select trim(subsector), trim(subsector_es), trim(indicator), trim(indicator_es), trim(indicator_type)
    from {{ ref('r4v_sector_indicators') }}
    where not exists (select 1 from landed_indicators)
),

organization_reference as (
    select organization_name, organization_name_es from {{ ref('stg_partners__organizations') }}
    union all
    select trim(name) as organization_name, trim(name_es) as organization_name_es
    from {{ ref('r4v_organizations') }}
    where not exists (select 1 from {{ ref('stg_partners__organizations') }})
),

location_reference as (
    select country, admin1 from {{ ref('stg_partners__need') }}
    union all
    select trim(country) as country, trim(admin1) as admin1
    from {{ ref('r4v_country_admin1') }}
    where not exists (select 1 from {{ ref('stg_partners__need') }})
),

indicator_list as (
    -- one row per English sector–indicator pair, whatever the list repeats
    select
        subsector,
        indicator,
        min(subsector_es) as subsector_es,
        min(indicator_es) as indicator_es,
        min(indicator_type) as indicator_type
    from indicator_reference
    group by subsector, indicator
),

subsector_names as (
    -- each subsector name, English or Spanish, to its English name
    select {{ text_key('subsector') }} as subsector_key, min(subsector) as subsector
    from indicator_list
    group by {{ text_key('subsector') }}
    union all
    select {{ text_key('subsector_es') }} as subsector_key, min(subsector) as subsector
    from indicator_list
    where subsector_es is not null
        and {{ text_key('subsector_es') }} not in (select {{ text_key('l.subsector') }} from indicator_list as l)
    group by {{ text_key('subsector_es') }}
),

locations as (
    -- Proportions.xlsx's country × admin1 pairs are the valid locations (every plan year's list)
    select
        {{ text_key('country') }} as country_key,
        {{ text_key('admin1') }} as admin1_key,
        min(country) as country,
        min(admin1) as admin1
    from location_reference
    group by {{ text_key('country') }}, {{ text_key('admin1') }}
),

organizations as (
    select {{ text_key('organization_name') }} as organization_key, min(organization_name) as organization_name
    from organization_reference
    group by {{ text_key('organization_name') }}
    union all
    select {{ text_key('organization_name_es') }} as organization_key, min(organization_name) as organization_name
    from organization_reference
    where organization_name_es is not null
        and {{ text_key('organization_name_es') }} not in (
            select {{ text_key('o.organization_name') }} from organization_reference as o
        )
    group by {{ text_key('organization_name_es') }}
),

matched as (
    select
        a.*,
        {{ dbt.concat(['a.source_file', "'|'", "coalesce(a.source_sheet, '')", "'|'",
                       dbt.safe_cast('a.source_row', dbt.type_string())]) }} as activity_row_id,
        il.subsector as matched_subsector,
        il.indicator as matched_indicator,
        il.indicator_type,
        sn.subsector as mapped_subsector,
        loc.country as matched_country,
        loc.admin1 as matched_admin1,
        org.organization_name as matched_organization,
        row_number() over (
            partition by a.source_file, a.source_sheet, a.source_row
            order by il.subsector, il.indicator
        ) as match_rank
    from activities as a
    left join indicator_list as il
        on {{ text_key('a.subsector_as_sent') }} in ({{ text_key('il.subsector') }}, {{ text_key('il.subsector_es') }})
        and {{ text_key('a.indicator_as_sent') }} in ({{ text_key('il.indicator') }}, {{ text_key('il.indicator_es') }})
    left join subsector_names as sn
        on {{ text_key('a.subsector_as_sent') }} = sn.subsector_key
    left join locations as loc
        on {{ text_key('a.country') }} = loc.country_key
        and {{ text_key('a.admin1') }} = loc.admin1_key
    left join organizations as org
        on {{ text_key('a.appealing_organization') }} = org.organization_key
),

checked as (
    select
        m.*,
        case
            when m.country is null or m.admin1 is null then 'missing country or admin1'
            when m.matched_admin1 is null then 'country-admin1 pair not in the reference list'
            when m.appealing_organization is null then 'missing appealing organization'
            when m.matched_organization is null then 'appealing organization not in the reference list'
            when m.activity_month_start is null then 'month missing or not YYYY-MM'
            when m.indicator_type is null then 'subsector-indicator pair not in the reference list'
            when m.new_beneficiaries_as_sent is not null and m.new_beneficiaries is null
                then 'new beneficiaries not a number'
        end as quarantine_reason
    from matched as m
    where m.match_rank = 1
)

select
    activity_row_id,
    coalesce(matched_country, country) as country,
    coalesce(matched_admin1, admin1) as admin1,
    country as country_as_sent,
    admin1 as admin1_as_sent,
    admin2,
    coalesce(matched_organization, appealing_organization) as appealing_organization,
    implemented_with_partner,
    implementing_partner,
    activity_month,
    activity_month_start,
    {{ dbt.safe_cast('substring(activity_month, 1, 4)', dbt.type_int()) }} as activity_year,
    coalesce(matched_subsector, mapped_subsector, subsector_as_sent) as subsector,
    coalesce(matched_indicator, indicator_as_sent) as indicator,
    indicator_type,
    subsector_as_sent,
    indicator_as_sent,
    activity_name,
    activity_description,
    is_rmrp_activity,
    is_covid19_related,
    is_cash_voucher_assistance,
    cva_value_usd,
    delivery_mechanism,
    quantity_output,
    total_monthly_beneficiaries,
    new_beneficiaries,
    new_in_destination,
    new_in_transit,
    new_host_communities,
    new_pendulars,
    new_returnees,
    new_girls,
    new_boys,
    new_women,
    new_men,
    new_other_under_18,
    new_other_above_18,
    quarantine_reason is null as is_valid,
    quarantine_reason,
    header_variant,
    source_file,
    source_sheet,
    source_row
from checked
