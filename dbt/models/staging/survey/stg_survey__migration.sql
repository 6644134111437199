-- Module 1000 (ENAHOPV migration module; ENPOVE chapters III and VII): migratory permit held, month and year of
-- arrival in Peru, discrimination felt since arriving and whether at the workplace.
select
    {{ survey_key_columns() }},
    {{ dbt.safe_cast('p1002', dbt.type_int()) }} as permit_code,
    {{ dbt.safe_cast('p1000_mes', dbt.type_int()) }} as arrival_month,
    {{ dbt.safe_cast('p1000_anho', dbt.type_int()) }} as arrival_year,
    {{ dbt.safe_cast('p1009', dbt.type_int()) }} as discriminated_code,
    {{ dbt.safe_cast('p1011_1', dbt.type_int()) }} as discriminated_at_workplace_mark,
    {{ provenance_columns() }}
from {{ source('raw', 'survey_migration') }}
