-- Published key figures (UNHCR Peru's DataInventory.csv): one row per figure as its publisher states it (CEPR,
-- Migraciones, INEI surveys), value already parsed at ingest. `indicator_key` is the indicator text in lower case
-- with single spaces, the key the reference_figure_measures seed maps to our own measures.
select
    {{ dbt.safe_cast('topic', dbt.type_string()) }} as topic,
    {{ dbt.safe_cast('indicator', dbt.type_string()) }} as indicator,
    lower(trim(replace(replace(indicator, '  ', ' '), '  ', ' '))) as indicator_key,
    {{ dbt.safe_cast('value', type_double()) }} as published_value,
    {{ dbt.safe_cast('value_as_sent', dbt.type_string()) }} as value_as_sent,
    {{ safe_date('reference_date') }} as reference_date,
    {{ dbt.safe_cast('reference_month', dbt.type_string()) }} as reference_month,
    {{ dbt.safe_cast('reference_year', dbt.type_int()) }} as reference_year,
    {{ dbt.safe_cast('date_as_sent', dbt.type_string()) }} as date_as_sent,
    {{ dbt.safe_cast('visibility', dbt.type_string()) }} as visibility,
    {{ dbt.safe_cast('source_type', dbt.type_string()) }} as source_type,
    {{ dbt.safe_cast('source', dbt.type_string()) }} as publisher,
    {{ dbt.safe_cast('comment', dbt.type_string()) }} as comment,
    {{ dbt.safe_cast('status', dbt.type_string()) }} as status,
    {{ provenance_columns() }}
from {{ source('raw', 'migraciones_reference_figures') }}
