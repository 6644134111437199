-- Module 400 (health): affiliation to each health insurance scheme (1 yes, 2 no).
select
    {{ survey_key_columns() }},
    {{ dbt.safe_cast('p4191', dbt.type_int()) }} as insured_essalud_code,
    {{ dbt.safe_cast('p4192', dbt.type_int()) }} as insured_private_code,
    {{ dbt.safe_cast('p4193', dbt.type_int()) }} as insured_eps_code,
    {{ dbt.safe_cast('p4194', dbt.type_int()) }} as insured_armed_forces_code,
    {{ dbt.safe_cast('p4195', dbt.type_int()) }} as insured_sis_code,
    {{ dbt.safe_cast('p4196', dbt.type_int()) }} as insured_university_code,
    {{ dbt.safe_cast('p4197', dbt.type_int()) }} as insured_school_code,
    {{ dbt.safe_cast('p4198', dbt.type_int()) }} as insured_other_code,
    {{ provenance_columns() }}
from {{ source('raw', 'survey_health') }}
