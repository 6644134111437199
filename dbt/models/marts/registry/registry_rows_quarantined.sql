-- How many rows of each Migraciones extract were set aside at load, by rule, so analysts know what the registry
-- figures leave out (the rows themselves, with file, line and reason, stay in the working warehouse for the
-- operator: raw.registry_extracts_quarantine). Counts of rows set aside are not counts of people with a
-- characteristic, so they are not suppressed.

select
    {{ dbt.safe_cast('extract_month', dbt.type_string()) }} as extract_month,
    {{ dbt.safe_cast('rule', dbt.type_string()) }} as rule,
    {{ dbt.safe_cast('column_name', dbt.type_string()) }} as column_name,
    {{ dbt.safe_cast('min(reason)', dbt.type_string()) }} as reason,
    {{ dbt.safe_cast('count(*)', dbt.type_bigint()) }} as rows_quarantined
from {{ source('raw', 'registry_extracts_quarantine') }}
group by extract_month, rule, column_name
