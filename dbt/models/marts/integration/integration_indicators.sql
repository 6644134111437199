-- Integration indicators of migrants and hosts by year × population group × sex × region: regular migratory status
-- (migrants only), formal employment, health insurance and written contracts. Weighted ratio estimators, each with
-- its module's weight; an estimate is NULL when the unweighted count of its denominator universe is below
-- var('survey_min_n').

{%- set employed_universe = 'working_age and in_employment_module and labor_status_code is not null and employed' %}

with

persons as (
    select
        year,
        population_group,
        sex,
        coalesce(department_name, 'unknown') as region,
        working_age,
        in_employment_module,
        labor_status_code,
        employed,
        formal,
        dependent_worker,
        has_written_contract,
        health_insured,
        no_permit,
        weight_employment,
        coalesce(weight_health, weight_members) as weight_health,  -- module 400 may come without its own weight
        weight_migration
    from {{ ref('int_survey_persons_harmonized') }}
    where population_group is not null
),

aggregated as (
    select
        year,
        population_group,
        sex,
        region,
        {{ survey_cell_flags() }},
        count(*) as n_persons,
        {{ weighted_ratio('not no_permit', 'weight_migration',
                          "population_group = 'migrant' and no_permit is not null") }} as regular_status_share,
        {{ weighted_ratio('formal', 'weight_employment', employed_universe) }} as formal_employment_rate,
        {{ weighted_ratio('health_insured', 'weight_health', 'health_insured is not null') }}
            as health_insurance_rate,
        {{ weighted_ratio('has_written_contract', 'weight_employment', employed_universe ~ ' and dependent_worker') }}
            as contract_rate
    from persons
    group by {{ survey_cell_grouping_sets() }}
),

cells as (
    -- a person with an unknown sex counts in the 'all' rows only
    select
        year,
        population_group,
        {{ survey_cell_labels() }},
        n_persons,
        case when population_group = 'migrant' then regular_status_share end as regular_status_share,
        formal_employment_rate,
        health_insurance_rate,
        contract_rate
    from aggregated
    where is_all_sexes = 1 or sex is not null
)

select
    {{ dbt.safe_cast('year', dbt.type_int()) }} as year,
    {{ dbt.safe_cast('population_group', dbt.type_string()) }} as population_group,
    {{ dbt.safe_cast('sex', dbt.type_string()) }} as sex,
    {{ dbt.safe_cast('region', dbt.type_string()) }} as region,
    {{ dbt.safe_cast('n_persons', dbt.type_bigint()) }} as n_persons,
    {{ dbt.safe_cast('regular_status_share', type_double()) }} as regular_status_share,
    {{ dbt.safe_cast('formal_employment_rate', type_double()) }} as formal_employment_rate,
    {{ dbt.safe_cast('health_insurance_rate', type_double()) }} as health_insurance_rate,
    {{ dbt.safe_cast('contract_rate', type_double()) }} as contract_rate
from cells
