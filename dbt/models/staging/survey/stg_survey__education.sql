-- Module 300 (education): level attained per person.
select
    {{ survey_key_columns() }},
    {{ dbt.safe_cast('p301a', dbt.type_int()) }} as education_level_code,
    {{ provenance_columns() }}
from {{ source('raw', 'survey_education') }}
