-- Partner program participant records (pseudonymous), one row per participant × program × report month.
select
    organization,
    report_month,
    {{ month_start('report_month') }} as report_month_start,
    beneficiary_key,
    lower(trim(program)) as program,
    {{ safe_date('enrolled_on') }} as enrolled_on,
    {{ safe_date('completed_on') }} as completed_on,
    case
        when upper(trim(sex)) in ('F', 'FEMALE', 'MUJER', 'FEMENINO') then 'female'
        when upper(trim(sex)) in ('M', 'MALE', 'HOMBRE', 'MASCULINO') then 'male'
    end as sex,
    {{ dbt.safe_cast(safe_number('birth_year'), dbt.type_int()) }} as birth_year,
    upper(trim(nationality)) as nationality,
    admin1,
    {{ text_to_boolean('single_parent') }} as is_single_parent,
    {{ text_to_boolean('lgbtiq') }} as is_lgbtiq,
    {{ text_to_boolean('disability') }} as has_disability,
    nullif(lower(trim(outcome)), '') as outcome,
    {{ safe_date('outcome_on') }} as outcome_on,
    {{ safe_number('monthly_income_pen') }} as monthly_income_pen,
    {{ provenance_columns() }}
from {{ source('raw', 'partner_beneficiaries') }}
