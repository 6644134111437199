-- UNHCR Refugee Data Finder: population figures by year, country of origin and country of asylum.
select
    {{ dbt.safe_cast('year', dbt.type_int()) }} as year,
    coo_name as origin_country_name,
    coo as origin_country_code,
    coo_iso as origin_iso3,
    coa_name as asylum_country_name,
    coa as asylum_country_code,
    coa_iso as asylum_iso3,
    {{ dbt.safe_cast('refugees', type_double()) }} as refugees,
    {{ dbt.safe_cast('asylum_seekers', type_double()) }} as asylum_seekers,
    {{ dbt.safe_cast('returned_refugees', type_double()) }} as returned_refugees,
    {{ dbt.safe_cast('idps', type_double()) }} as idps,
    {{ dbt.safe_cast('returned_idps', type_double()) }} as returned_idps,
    {{ dbt.safe_cast('stateless', type_double()) }} as stateless,
    {{ dbt.safe_cast('ooc', type_double()) }} as others_of_concern,
    {{ dbt.safe_cast('oip', type_double()) }} as other_in_need_of_international_protection,
    {{ dbt.safe_cast('hst', type_double()) }} as host_community,
    {{ provenance_columns() }}
from {{ source('raw', 'unhcr_population') }}
