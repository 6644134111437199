-- R4V consolidated reached beneficiaries per appealing organization (one row per country sheet row), counts
-- already typed by the reader. 'Intersector' rows are R4V's own cross-sector figure per organization × month,
-- not a subsector: is_intersector marks them so that sums over subsectors can leave them out.
select
    country,
    admin1,
    appealing_org as appealing_organization,
    month as report_month,
    {{ month_start('month') }} as report_month_start,
    subsector,
    lower(trim(subsector)) = 'intersector' as is_intersector,
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
    {{ dbt.safe_cast('consolidated_cva_beneficiaries', type_double()) }} as consolidated_cva_beneficiaries,
    {{ provenance_columns(with_sheet=true) }}
from {{ source('raw', 'partner_consolidated_reports') }}
