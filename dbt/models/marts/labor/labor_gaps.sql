-- Labor-market indicators of migrants and hosts by year × population group × sex × region, with the raw wage gap
-- (migrant vs host) and the gender wage gap (female vs male). Weighted ratio estimators with the module-500 weight;
-- an estimate is NULL when the unweighted count of its denominator universe is below var('survey_min_n').

{%- set w = 'weight_employment' %}
{%- set working_age_universe = 'working_age and in_employment_module and labor_status_code is not null' %}

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
        open_unemployed,
        in_labor_force,
        informal,
        monthly_labor_income,
        hourly_income,
        weight_employment
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
        {{ count_if(working_age_universe ~ ' and ' ~ w ~ ' is not null') }} as n_working_age,
        {{ count_if(working_age_universe ~ ' and employed and ' ~ w ~ ' is not null') }} as n_employed,
        {{ weighted_ratio('employed', w, working_age_universe) }} as employment_rate,
        {{ weighted_ratio('open_unemployed', w, working_age_universe ~ ' and in_labor_force') }} as unemployment_rate,
        {{ weighted_ratio('informal', w, working_age_universe ~ ' and employed') }} as informality_rate,
        {{ weighted_ratio('monthly_labor_income', w, working_age_universe ~ ' and employed',
                          numerator_is_value=true) }} as labor_income_monthly_mean,
        {{ weighted_ratio('hourly_income', w, working_age_universe ~ ' and employed and hourly_income is not null',
                          numerator_is_value=true) }} as hourly_income_mean
    from persons
    group by {{ survey_cell_grouping_sets() }}
),

cells as (
    -- a person with an unknown sex counts in the 'all' rows only
    select
        year,
        population_group,
        {{ survey_cell_labels() }},
        n_working_age,
        n_employed,
        employment_rate,
        unemployment_rate,
        informality_rate,
        labor_income_monthly_mean,
        hourly_income_mean
    from aggregated
    where is_all_sexes = 1 or sex is not null
),

with_gaps as (
    select
        c.year,
        c.population_group,
        c.sex,
        c.region,
        c.n_working_age,
        c.n_employed,
        c.employment_rate,
        c.unemployment_rate,
        c.informality_rate,
        c.labor_income_monthly_mean,
        c.hourly_income_mean,
        case
            when c.population_group = 'migrant'
                then 1 - c.hourly_income_mean / nullif(host.hourly_income_mean, 0)
        end as wage_gap_raw,
        case
            when c.sex = 'all'
                then 1 - female.hourly_income_mean / nullif(male.hourly_income_mean, 0)
        end as gender_wage_gap
    from cells as c
    left join cells as host
        on host.population_group = 'host'
        and host.year = c.year
        and host.sex = c.sex
        and host.region = c.region
    left join cells as female
        on female.sex = 'female'
        and female.year = c.year
        and female.population_group = c.population_group
        and female.region = c.region
    left join cells as male
        on male.sex = 'male'
        and male.year = c.year
        and male.population_group = c.population_group
        and male.region = c.region
)

select
    {{ dbt.safe_cast('year', dbt.type_int()) }} as year,
    {{ dbt.safe_cast('population_group', dbt.type_string()) }} as population_group,
    {{ dbt.safe_cast('sex', dbt.type_string()) }} as sex,
    {{ dbt.safe_cast('region', dbt.type_string()) }} as region,
    {{ dbt.safe_cast('n_working_age', dbt.type_bigint()) }} as n_working_age,
    {{ dbt.safe_cast('n_employed', dbt.type_bigint()) }} as n_employed,
    {{ dbt.safe_cast('employment_rate', type_double()) }} as employment_rate,
    {{ dbt.safe_cast('unemployment_rate', type_double()) }} as unemployment_rate,
    {{ dbt.safe_cast('informality_rate', type_double()) }} as informality_rate,
    {{ dbt.safe_cast('labor_income_monthly_mean', type_double()) }} as labor_income_monthly_mean,
    {{ dbt.safe_cast('hourly_income_mean', type_double()) }} as hourly_income_mean,
    {{ dbt.safe_cast('wage_gap_raw', type_double()) }} as wage_gap_raw,
    {{ dbt.safe_cast('gender_wage_gap', type_double()) }} as gender_wage_gap
from with_gaps
