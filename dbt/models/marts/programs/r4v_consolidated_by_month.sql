-- R4V's consolidated reached beneficiaries (the consolidated-per-organization workbook, a historical source)
-- summed over appealing organizations, per country × month × subsector. The 'Intersector' rows sum each
-- organization's own cross-sector figure: they are the country × month totals (a person reached by two sectors
-- of one organization counts once there, but twice in the sum of the sector rows). Age/sex columns stay NULL
-- where R4V leaves them blank (its Intersector rows). Not suppressed: the input is R4V's published aggregate, not
-- person records, and the mart must reproduce R4V's own sums (see the README).

with

reports as (
    select * from {{ ref('stg_partners__consolidated_reports') }}
),

summed as (
    select
        country,
        report_month as month,
        subsector,
        is_intersector,
        count(distinct appealing_organization) as organizations,
        count(*) as report_rows,
        sum(monthly_total_beneficiaries) as monthly_total_beneficiaries,
        sum(monthly_cva_beneficiaries) as monthly_cva_beneficiaries,
        sum(consolidated_total) as consolidated_total,
        sum(in_destination) as in_destination,
        sum(in_transit) as in_transit,
        sum(host_communities) as host_communities,
        sum(pendulars) as pendulars,
        sum(returnees) as returnees,
        sum(girls) as girls,
        sum(boys) as boys,
        sum(women) as women,
        sum(men) as men,
        sum(other_under_18) as other_under_18,
        sum(other_above_18) as other_above_18,
        sum(consolidated_cva_beneficiaries) as consolidated_cva_beneficiaries
    from reports
    group by country, report_month, subsector, is_intersector
)

select
    {{ dbt.safe_cast('country', dbt.type_string()) }} as country,
    {{ dbt.safe_cast('month', dbt.type_string()) }} as month,
    {{ dbt.safe_cast('subsector', dbt.type_string()) }} as subsector,
    {{ dbt.safe_cast('is_intersector', dbt.type_boolean()) }} as is_intersector,
    {{ dbt.safe_cast('organizations', dbt.type_bigint()) }} as organizations,
    {{ dbt.safe_cast('report_rows', dbt.type_bigint()) }} as report_rows,
    {{ dbt.safe_cast('monthly_total_beneficiaries', type_double()) }} as monthly_total_beneficiaries,
    {{ dbt.safe_cast('monthly_cva_beneficiaries', type_double()) }} as monthly_cva_beneficiaries,
    {{ dbt.safe_cast('consolidated_total', type_double()) }} as consolidated_total,
    {{ dbt.safe_cast('in_destination', type_double()) }} as in_destination,
    {{ dbt.safe_cast('in_transit', type_double()) }} as in_transit,
    {{ dbt.safe_cast('host_communities', type_double()) }} as host_communities,
    {{ dbt.safe_cast('pendulars', type_double()) }} as pendulars,
    {{ dbt.safe_cast('returnees', type_double()) }} as returnees,
    {{ dbt.safe_cast('girls', type_double()) }} as girls,
    {{ dbt.safe_cast('boys', type_double()) }} as boys,
    {{ dbt.safe_cast('women', type_double()) }} as women,
    {{ dbt.safe_cast('men', type_double()) }} as men,
    {{ dbt.safe_cast('other_under_18', type_double()) }} as other_under_18,
    {{ dbt.safe_cast('other_above_18', type_double()) }} as other_above_18,
    {{ dbt.safe_cast('consolidated_cva_beneficiaries', type_double()) }} as consolidated_cva_beneficiaries
from summed
