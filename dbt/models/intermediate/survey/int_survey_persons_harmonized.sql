-- One row per survey × wave × person: module 200 (every listed person) joined to modules 300, 400, 500 and 1000
-- on the person key, with the population group, design variables, one weight per module and the derived flags
-- that the indicators of indicator-definitions.md are built from. A person absent from a module has that module's
-- weight and flags NULL, and so falls outside that module's indicator universes.

{%- set person_key = survey_person_key() %}
{%- set joins_on = [] %}
{%- for column in person_key %}{% do joins_on.append('m.' ~ column ~ ' = {alias}.' ~ column) %}{% endfor %}

with

members as (
    select * from {{ ref('stg_survey__members') }}
),

education as (
    select * from {{ ref('stg_survey__education') }}
),

health as (
    select * from {{ ref('stg_survey__health') }}
),

employment as (
    select * from {{ ref('stg_survey__employment') }}
),

migration as (
    select * from {{ ref('stg_survey__migration') }}
),

departments as (
    select * from {{ ref('departments') }}
),

joined as (
    select
        m.survey,
        m.wave,
        m.cluster_code,
        m.dwelling_code,
        m.household_code,
        m.person_code,
        m.stratum,
        m.ubigeo,
        m.sex_code,
        m.age,
        m.nationality_code,
        m.population_group,
        m.weight as weight_members,
        ed.weight as weight_education,
        he.weight as weight_health,
        em.weight as weight_employment,
        mi.weight as weight_migration,
        ed.education_level_code,
        he.insured_essalud_code,
        he.insured_private_code,
        he.insured_eps_code,
        he.insured_armed_forces_code,
        he.insured_sis_code,
        he.insured_university_code,
        he.insured_school_code,
        he.insured_other_code,
        -- a person counts as present in a module when the module has a row for them
        ed.survey is not null as in_education_module,
        he.survey is not null as in_health_module,
        em.survey is not null as in_employment_module,
        mi.survey is not null as in_migration_module,
        em.labor_status_code,
        em.informality_code,
        em.occupation_code,
        em.industry_code,
        em.employment_category_code,
        em.contract_type_code,
        em.contract_or_receipt_code,
        em.hours_main_job,
        em.hours_secondary_jobs,
        em.wants_more_hours_code,
        em.available_more_hours_code,
        coalesce(em.income_main_dependent_cash, 0)
            + coalesce(em.income_main_dependent_in_kind, 0)
            + coalesce(em.income_main_independent_cash, 0)
            + coalesce(em.income_main_independent_own_use, 0) as annual_income_main_job,
        coalesce(em.income_secondary_dependent_cash, 0)
            + coalesce(em.income_secondary_dependent_in_kind, 0)
            + coalesce(em.income_secondary_independent_cash, 0)
            + coalesce(em.income_secondary_independent_own_use, 0)
            + coalesce(em.income_extraordinary, 0) as annual_income_other,
        em.pension_private_code,
        em.pension_national_code,
        em.pension_other_regime_code,
        em.pension_other_code,
        em.pension_not_affiliated_code,
        mi.permit_code,
        mi.arrival_year,
        mi.discriminated_code,
        mi.discriminated_at_workplace_mark
    from members as m
    left join education as ed
        on {{ joins_on | join(' and ') | replace('{alias}', 'ed') }}
    left join health as he
        on {{ joins_on | join(' and ') | replace('{alias}', 'he') }}
    left join employment as em
        on {{ joins_on | join(' and ') | replace('{alias}', 'em') }}
    left join migration as mi
        on {{ joins_on | join(' and ') | replace('{alias}', 'mi') }}
),

derived as (
    select
        {{ dbt.concat(["j.survey", "'-'", dbt.safe_cast('j.wave', dbt.type_string()), "'-'", "j.cluster_code", "'-'",
                       "j.dwelling_code", "'-'", "j.household_code", "'-'", "j.person_code"]) }} as person_id,
        j.survey,
        j.wave,
        j.wave as year,
        j.cluster_code,
        j.dwelling_code,
        j.household_code,
        j.person_code,
        {{ dbt.concat(["j.survey", "'-'", dbt.safe_cast('j.wave', dbt.type_string()), "'-'", "j.cluster_code", "'-'",
                       "j.dwelling_code", "'-'", "j.household_code"]) }} as household_id,
        j.population_group,  -- the wave's crosswalk rule, applied at ingest
        case j.sex_code when 1 then 'male' when 2 then 'female' end as sex,
        j.age,
        j.nationality_code,
        j.ubigeo,
        d.department_code,
        d.department_name,
        j.stratum,
        {{ dbt.concat(["j.survey", "'-'", dbt.safe_cast('j.wave', dbt.type_string()), "'-'", "j.cluster_code"]) }} as psu,
        j.weight_members,
        j.weight_education,
        j.weight_health,
        j.weight_employment,
        j.weight_migration,
        j.in_education_module,
        j.in_health_module,
        j.in_employment_module,
        j.in_migration_module,
        j.age >= {{ var('working_age_min') }} as working_age,
        j.labor_status_code,
        case when j.labor_status_code is not null then j.labor_status_code = 1 end as employed,
        case when j.labor_status_code is not null then j.labor_status_code = 2 end as open_unemployed,
        case when j.labor_status_code is not null then j.labor_status_code in (1, 2) end as in_labor_force,
        case when j.informality_code is not null then j.informality_code = 1 end as informal,
        case when j.informality_code is not null then j.informality_code = 2 end as formal,
        case when j.employment_category_code is not null then j.employment_category_code in (3, 4, 6) end
            as dependent_worker,
        -- ENAHO-type surveys give the contract type (1-6 written, 7 none); ENPOVE asks yes/no (contract or receipt)
        case
            when j.contract_type_code is not null then j.contract_type_code between 1 and 6
            when j.contract_or_receipt_code is not null then j.contract_or_receipt_code = 1
        end as has_written_contract,
        j.education_level_code,
        case when j.education_level_code is not null then j.education_level_code in (10, 11) end
            as tertiary_educated,
        -- ISCO-08 major groups 4-9 (first digit of the occupation code), used by overqualification_rate
        case
            when j.occupation_code is not null
                then {{ dbt.safe_cast('substring(j.occupation_code, 1, 1)', dbt.type_int()) }} >= 4
        end as low_skill_occupation,
        case
            when j.in_health_module and (
                j.insured_essalud_code = 1 or j.insured_private_code = 1 or j.insured_eps_code = 1
                or j.insured_armed_forces_code = 1 or j.insured_sis_code = 1 or j.insured_university_code = 1
                or j.insured_school_code = 1 or j.insured_other_code = 1
            ) then true
            when j.in_health_module and coalesce(
                j.insured_essalud_code, j.insured_private_code, j.insured_eps_code, j.insured_armed_forces_code,
                j.insured_sis_code, j.insured_university_code, j.insured_school_code, j.insured_other_code
            ) is not null then false
        end as health_insured,
        j.permit_code,
        case when j.permit_code is not null then j.permit_code = 6 end as no_permit,
        -- p558a1..a4 hold their option's code when the person is affiliated to that system (a5 = not affiliated)
        case
            when coalesce(j.pension_private_code, 0) + coalesce(j.pension_national_code, 0)
                 + coalesce(j.pension_other_regime_code, 0) + coalesce(j.pension_other_code, 0) > 0 then true
            when coalesce(j.pension_private_code, j.pension_national_code, j.pension_other_regime_code,
                          j.pension_other_code, j.pension_not_affiliated_code) is not null then false
        end as pension_affiliated,
        j.arrival_year,
        j.wave - j.arrival_year as years_since_arrival,
        case
            when j.discriminated_code = 1 then coalesce(j.discriminated_at_workplace_mark, 0) = 1
            when j.discriminated_code = 2 then false
        end as discriminated_at_work,
        j.occupation_code,
        j.industry_code,
        j.employment_category_code,
        j.contract_type_code,
        j.contract_or_receipt_code,
        j.hours_main_job,
        j.hours_secondary_jobs,
        case
            when j.labor_status_code is not null
                then coalesce(j.hours_main_job, 0) + coalesce(j.hours_secondary_jobs, 0) < 35
                    and j.wants_more_hours_code = 1 and j.available_more_hours_code = 1
        end as time_underemployed,
        case when j.in_employment_module then (j.annual_income_main_job + j.annual_income_other) / 12 end
            as monthly_labor_income,
        case
            when j.in_employment_module and j.hours_main_job > 0
                then j.annual_income_main_job / 12 / (4.33 * j.hours_main_job)
        end as hourly_income
    from joined as j
    left join departments as d
        on {{ department_code_from_ubigeo('j.ubigeo') }} = d.department_code
)

select * from derived
