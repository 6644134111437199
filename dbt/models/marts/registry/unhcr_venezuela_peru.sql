-- Asylum and refugee statistics for Venezuelans in Peru (UNHCR Refugee Data Finder, origin VEN → asylum PER), one
-- row per year: the wide view of the 'migrant' rows of int_unhcr_indicators (the same numbers `indicators`
-- publishes). Population figures are end-year stocks; applications and decisions are flows over the year, summed
-- over procedure types, application types and decision levels. A count below k = 10 is NULL, and the row's
-- reliability says a value was withheld.

{%- set columns = {
    'refugees': 'unhcr_refugees',
    'asylum_seekers': 'unhcr_asylum_seekers',
    'other_in_need_of_international_protection': 'unhcr_oip',
    'applications': 'unhcr_asylum_applications',
    'decisions_recognized': 'unhcr_decisions_recognized',
    'decisions_complementary': 'unhcr_decisions_complementary',
    'decisions_rejected': 'unhcr_decisions_rejected',
    'decisions_closed': 'unhcr_decisions_closed',
    'decisions_total': 'unhcr_decisions_total',
} %}

with

venezuelans as (
    select * from {{ ref('int_unhcr_indicators') }}
    where population_group = 'migrant'
),

pivoted as (
    select
        period,
        {%- for column, indicator_id in columns.items() %}
        max(case when indicator_id = '{{ indicator_id }}' then estimate end) as {{ column }},
        {%- endfor %}
        max(case when indicator_id = 'unhcr_recognition_rate' then estimate end) as recognition_rate,
        max(case when reliability = 'suppressed' then 1 else 0 end) as has_suppressed_values
    from venezuelans
    group by period
)

select
    {{ dbt.safe_cast('period', dbt.type_int()) }} as year,
    {%- for column in columns %}
    {{ dbt.safe_cast(column, dbt.type_bigint()) }} as {{ column }},
    {%- endfor %}
    {{ dbt.safe_cast('recognition_rate', type_double()) }} as recognition_rate,
    {{ dbt.safe_cast("case when has_suppressed_values = 1 then 'suppressed' else 'reliable' end",
                     dbt.type_string()) }} as reliability
from pivoted
