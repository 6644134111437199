-- R4V Proportions.xlsx, PiN and Target sheets, long: people in need / targeted per plan year, location,
-- subsector, population type and age/sex group.
select
    {{ dbt.safe_cast('plan_year', dbt.type_int()) }} as plan_year,
    lower(trim(measure)) as measure,
    country,
    admin1,
    subsector,
    lower(trim(population_type)) as population_type,
    lower(trim(age_sex_group)) as age_sex_group,
    {{ dbt.safe_cast('people', type_double()) }} as people,
    {{ provenance_columns(with_sheet=true) }}
from {{ source('raw', 'partner_need') }}
