{#- The columns every raw survey table starts with (docs/raw-tables.md), renamed to English and cast. -#}
{% macro survey_key_columns() -%}
        {{ dbt.safe_cast('survey', dbt.type_string()) }} as survey,
        {{ dbt.safe_cast('wave', dbt.type_int()) }} as wave,
        {{ dbt.safe_cast('conglome', dbt.type_string()) }} as cluster_code,
        {{ dbt.safe_cast('vivienda', dbt.type_string()) }} as dwelling_code,
        {{ dbt.safe_cast('hogar', dbt.type_string()) }} as household_code,
        {{ dbt.safe_cast('codperso', dbt.type_string()) }} as person_code,
        {{ dbt.safe_cast('estrato', dbt.type_int()) }} as stratum,
        {{ dbt.safe_cast('weight', type_double()) }} as weight
{%- endmacro %}

{#- The provenance columns every raw table carries. -#}
{% macro provenance_columns(with_sheet=false) -%}
        {{ dbt.safe_cast('source_file', dbt.type_string()) }} as source_file,
        {%- if with_sheet %}
        {{ dbt.safe_cast('source_sheet', dbt.type_string()) }} as source_sheet,
        {%- endif %}
        {{ dbt.safe_cast('source_row', dbt.type_int()) }} as source_row
{%- endmacro %}

{#- The survey person key columns, for joins and uniqueness tests. -#}
{% macro survey_person_key() -%}
    {{ return(['survey', 'wave', 'cluster_code', 'dwelling_code', 'household_code', 'person_code']) }}
{%- endmacro %}


{#- The published cells of the survey marts: year × group × sex × region, with 'all' margins for sex and region.
    Use the three together: flags in the select, grouping sets in the group by, labels when naming the cells. -#}
{% macro survey_cell_flags() -%}
    grouping(sex) as is_all_sexes,
        grouping(region) as is_all_regions
{%- endmacro %}

{% macro survey_cell_grouping_sets() -%}
    grouping sets (
        (year, population_group, sex, region),
        (year, population_group, sex),
        (year, population_group, region),
        (year, population_group)
    )
{%- endmacro %}

{% macro survey_cell_labels() -%}
    case when is_all_sexes = 1 then 'all' else sex end as sex,
        case when is_all_regions = 1 then 'all' else region end as region
{%- endmacro %}


{#- The wide survey marts are pivots of `indicators`: one column per indicator id, the estimate of each cell. -#}
{% macro pivot_estimates(indicator_ids) -%}
    {%- for indicator_id in indicator_ids %}
        max(case when indicator_id = '{{ indicator_id }}' then estimate end) as {{ indicator_id }}
        {{- ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro cast_estimates(indicator_ids) -%}
    {%- for indicator_id in indicator_ids %}
    {{ dbt.safe_cast(indicator_id, type_double()) }} as {{ indicator_id }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#- The columns of the `indicators` mart, cast to their published types, selected from `relation` (each family's
    indicators come in this layout and are unioned there). -#}
{% macro indicator_columns(relation) -%}
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
from {{ relation }}
{%- endmacro %}
