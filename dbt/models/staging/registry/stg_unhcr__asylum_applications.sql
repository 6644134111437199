-- UNHCR Refugee Data Finder: asylum applications lodged.
select
    {{ dbt.safe_cast('year', dbt.type_int()) }} as year,
    coo_name as origin_country_name,
    coo as origin_country_code,
    coo_iso as origin_iso3,
    coa_name as asylum_country_name,
    coa as asylum_country_code,
    coa_iso as asylum_iso3,
    procedure_type,
    app_type as application_type,
    dec_level as decision_level,
    app_pc as applications_counted_as,
    {{ dbt.safe_cast('applied', type_double()) }} as applications,
    {{ provenance_columns() }}
from {{ source('raw', 'unhcr_asylum_applications') }}
