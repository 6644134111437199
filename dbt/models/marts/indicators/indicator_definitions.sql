-- What every indicator in `indicators` measures, over whom and from which variables: published next to the numbers
-- so an analyst never has to look for the definition elsewhere. Survey definitions come from indicators.yaml (via
-- the estimation step), registry, UNHCR and program definitions from their seeds.

{%- for relation in [source('estimates', 'indicator_definitions'), ref('registry_indicator_definitions'),
                     ref('unhcr_indicator_definitions'), ref('program_indicator_definitions')] %}
{%- if not loop.first %}

union all
{% endif %}

select
    {{ dbt.safe_cast('indicator_id', dbt.type_string()) }} as indicator_id,
    {{ dbt.safe_cast('domain', dbt.type_string()) }} as domain,
    {{ dbt.safe_cast('unit', dbt.type_string()) }} as unit,
    {{ dbt.safe_cast('definition', dbt.type_string()) }} as definition,
    {{ dbt.safe_cast('universe', dbt.type_string()) }} as universe,
    {{ dbt.safe_cast('numerator', dbt.type_string()) }} as numerator,
    {{ dbt.safe_cast('weight', dbt.type_string()) }} as weight,
    {{ dbt.safe_cast('estimator', dbt.type_string()) }} as estimator
from {{ relation }}
{%- endfor %}
