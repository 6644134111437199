-- Module 1000 (ENAHOPV migration module): migratory permit held, month and year of arrival in Peru.
select
    {{ survey_key_columns() }},
    {{ dbt.safe_cast('p1002', dbt.type_int()) }} as permit_code,
    {{ dbt.safe_cast('p1000_mes', dbt.type_int()) }} as arrival_month,
    {{ dbt.safe_cast('p1000_anho', dbt.type_int()) }} as arrival_year,
    {{ provenance_columns() }}
from {{ source('raw', 'survey_migration') }}
