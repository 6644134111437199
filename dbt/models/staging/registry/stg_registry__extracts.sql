-- Migraciones monthly extracts: one row per person known to the registry at the end of each month.
-- Only rows that passed the row rules at load are here (the others are in raw.registry_extracts_quarantine), so
-- dates are ISO text; `loaded_at` is when the row's file was loaded (incremental models rebuild from it).
select
    {{ dbt.safe_cast('extract_month', dbt.type_string()) }} as extract_month,
    {{ month_start('extract_month') }} as extract_month_start,
    {{ dbt.safe_cast('person_key', dbt.type_string()) }} as person_key,
    {{ dbt.safe_cast('document_key', dbt.type_string()) }} as document_key,
    {{ dbt.safe_cast('tipo_documento', dbt.type_string()) }} as document_type,
    case upper(trim(sexo)) when 'M' then 'male' when 'F' then 'female' end as sex,
    {{ dbt.safe_cast('nacionalidad', dbt.type_string()) }} as nationality_iso3,
    {{ dbt.safe_cast('calidad_migratoria', dbt.type_string()) }} as status,
    {{ safe_date('fecha_nacimiento') }} as birth_date,
    {{ safe_date('fecha_ultimo_ingreso') }} as last_entry_date,
    {{ safe_date('fecha_inicio_calidad') }} as status_start_date,
    {{ safe_date('fecha_vencimiento') }} as permit_expiry_date,
    nullif(trim(ubigeo_residencia), '') as residence_ubigeo,
    loaded_at,
    {{ provenance_columns() }}
from {{ source('raw', 'registry_extracts') }}
