-- The one long table of published indicators that analysts, the brief and exports read. Survey indicators come
-- with design-based standard errors from the estimation step; the Migraciones registry indicators (counts of the
-- extracts, domain 'registry', source 'migraciones') and UNHCR's Refugee Data Finder figures (domain 'registry',
-- source 'unhcr') join as plain counts and shares; program indicators (domain 'programs', source 'r4v_5w': R4V's consolidation and coverage) from
-- int_program_indicators.

{{ indicator_columns(source('estimates', 'survey_indicators')) }}

{#- The registry models join when they have been built: a refresh of the survey family alone (an operator's choice in
    the UI) builds `indicators` without them. The refs are taken outside the test so that dbt and Dagster always see
    the dependency. -#}
{%- set registry_indicators = ref('int_registry_indicators') %}
{%- set unhcr_indicators = ref('int_unhcr_indicators') %}
{#- domain 'programs': R4V's consolidation and coverage (int_program_indicators), the one source of program rows #}
{%- set program_indicators = ref('int_program_indicators') %}
{%- for relation in [registry_indicators, unhcr_indicators, program_indicators] %}
{%- if not execute or load_relation(relation) is not none %}

union all

{{ indicator_columns(relation) }}
{%- endif %}
{%- endfor %}
