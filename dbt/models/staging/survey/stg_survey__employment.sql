-- Module 500 (employment and income): labor status, job characteristics, hours and annual income components.
select
    {{ survey_key_columns() }},
    {{ dbt.safe_cast('ocu500', dbt.type_int()) }} as labor_status_code,
    {{ dbt.safe_cast('ocupinf', dbt.type_int()) }} as informality_code,
    {{ dbt.safe_cast('p505r4', dbt.type_string()) }} as occupation_code,
    {{ dbt.safe_cast('p506r4', dbt.type_string()) }} as industry_code,
    {{ dbt.safe_cast('p507', dbt.type_int()) }} as employment_category_code,
    {{ dbt.safe_cast('p511a', dbt.type_int()) }} as contract_type_code,
    {{ dbt.safe_cast('p513t', type_double()) }} as hours_main_job,
    {{ dbt.safe_cast('p518', type_double()) }} as hours_secondary_jobs,
    {{ dbt.safe_cast('p521', dbt.type_int()) }} as wants_more_hours_code,
    {{ dbt.safe_cast('p521a', dbt.type_int()) }} as available_more_hours_code,
    {{ dbt.safe_cast('i524a1', type_double()) }} as income_main_dependent_cash,
    {{ dbt.safe_cast('d529t', type_double()) }} as income_main_dependent_in_kind,
    {{ dbt.safe_cast('i530a', type_double()) }} as income_main_independent_cash,
    {{ dbt.safe_cast('d536', type_double()) }} as income_main_independent_own_use,
    {{ dbt.safe_cast('i538a1', type_double()) }} as income_secondary_dependent_cash,
    {{ dbt.safe_cast('d540t', type_double()) }} as income_secondary_dependent_in_kind,
    {{ dbt.safe_cast('i541a', type_double()) }} as income_secondary_independent_cash,
    {{ dbt.safe_cast('d543', type_double()) }} as income_secondary_independent_own_use,
    {{ dbt.safe_cast('d544t', type_double()) }} as income_extraordinary,
    {{ provenance_columns() }}
from {{ source('raw', 'survey_employment') }}
