-- One row per delivered Migraciones extract month: its registered stock (valid rows; rows that broke a row rule
-- were quarantined at load) and the change from the month before (calendar M−1, NULL when that month was not
-- delivered). The blocking check expectations/intermediate__int_registry_extract_months.json holds the change within
-- ±WAREHOUSE_REGISTRY_MAX_MONTHLY_STOCK_CHANGE: a sudden halving is a broken delivery, not news.

with

months as (
    select
        extract_month,
        extract_month_start,
        count(*) as registered_stock,
        max(loaded_at) as loaded_at
    from {{ ref('stg_registry__extracts') }}
    group by extract_month, extract_month_start
)

select
    {{ dbt.safe_cast('m.extract_month', dbt.type_string()) }} as extract_month,
    m.extract_month_start,
    m.loaded_at,
    {{ dbt.safe_cast('m.registered_stock', dbt.type_bigint()) }} as registered_stock,
    {{ dbt.safe_cast('p.extract_month', dbt.type_string()) }} as previous_month,
    {{ dbt.safe_cast('p.registered_stock', dbt.type_bigint()) }} as previous_registered_stock,
    {{ dbt.safe_cast('case when p.registered_stock > 0 then m.registered_stock * 1.0 / p.registered_stock - 1 end',
                     type_double()) }} as stock_change_ratio
from months as m
left join months as p
    on p.extract_month_start = {{ dbt.dateadd('month', -1, 'm.extract_month_start') }}
