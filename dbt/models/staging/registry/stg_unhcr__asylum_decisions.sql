-- UNHCR Refugee Data Finder: asylum decisions taken.
select
    {{ dbt.safe_cast('year', dbt.type_int()) }} as year,
    coo_name as origin_country_name,
    coo as origin_country_code,
    coo_iso as origin_iso3,
    coa_name as asylum_country_name,
    coa as asylum_country_code,
    coa_iso as asylum_iso3,
    procedure_type,
    dec_level as decision_level,
    dec_pc as decisions_counted_as,
    {{ dbt.safe_cast('dec_recognized', type_double()) }} as recognized,
    {{ dbt.safe_cast('dec_other', type_double()) }} as complementary_protection,
    {{ dbt.safe_cast('dec_rejected', type_double()) }} as rejected,
    {{ dbt.safe_cast('dec_closed', type_double()) }} as otherwise_closed,
    {{ dbt.safe_cast('dec_total', type_double()) }} as total_decisions,
    {{ provenance_columns() }}
from {{ source('raw', 'unhcr_asylum_decisions') }}
