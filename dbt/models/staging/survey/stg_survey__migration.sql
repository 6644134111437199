-- Module 1000 (ENAHOPV migration module): migratory permit held.
select
    {{ survey_key_columns() }},
    {{ dbt.safe_cast('p1002', dbt.type_int()) }} as permit_code,
    {{ provenance_columns() }}
from {{ source('raw', 'survey_migration') }}
