-- The one long table of published indicators that analysts, the brief and exports read. Survey indicators come
-- with design-based standard errors from the estimation step; registry and program indicators join here as their
-- families deepen.

select
    {{ dbt.safe_cast('indicator_id', dbt.type_string()) }} as indicator_id,
    {{ dbt.safe_cast('domain', dbt.type_string()) }} as domain,
    {{ dbt.safe_cast('source', dbt.type_string()) }} as source,
    {{ dbt.safe_cast('period', dbt.type_string()) }} as period,
    {{ dbt.safe_cast('population_group', dbt.type_string()) }} as population_group,
    {{ dbt.safe_cast('sex', dbt.type_string()) }} as sex,
    {{ dbt.safe_cast('region', dbt.type_string()) }} as region,
    {{ dbt.safe_cast('age_group', dbt.type_string()) }} as age_group,
    {{ dbt.safe_cast('estimate', type_double()) }} as estimate,
    {{ dbt.safe_cast('se', type_double()) }} as se,
    {{ dbt.safe_cast('ci_low', type_double()) }} as ci_low,
    {{ dbt.safe_cast('ci_high', type_double()) }} as ci_high,
    {{ dbt.safe_cast('cv', type_double()) }} as cv,
    {{ dbt.safe_cast('n_unweighted', dbt.type_bigint()) }} as n_unweighted,
    {{ dbt.safe_cast('unit', dbt.type_string()) }} as unit,
    {{ dbt.safe_cast('reliability', dbt.type_string()) }} as reliability
from {{ source('estimates', 'survey_indicators') }}
