-- Module 200 (household members): one row per person of every survey wave, INEI codes renamed to English.
select
    {{ survey_key_columns() }},
    {{ dbt.safe_cast('ubigeo', dbt.type_string()) }} as ubigeo,
    {{ dbt.safe_cast('p207', dbt.type_int()) }} as sex_code,
    {{ dbt.safe_cast('p208a', dbt.type_int()) }} as age,
    {{ dbt.safe_cast('p209a', dbt.type_int()) }} as nationality_code,
    {{ dbt.safe_cast('population_group', dbt.type_string()) }} as population_group,
    {{ provenance_columns() }}
from {{ source('raw', 'survey_members') }}
