-- One row per person × extract month of the Migraciones registry, with the status, whether it is a regular one,
-- the department of residence (code and INEI name; `department` is the name, or 'unknown' for an empty ubigeo),
-- the age in completed years on the extract's as-of date (the month's last day) and its band, and typed dates.
-- The load keeps only valid rows (invalid ones go to raw.registry_extracts_quarantine), so a person is listed once
-- per extract; the dedupe below (the row that comes last in the file) is a harmless safeguard.

with

extracts as (
    select * from {{ ref('stg_registry__extracts') }}
),

departments as (
    select * from {{ ref('departments') }}
),

ranked as (
    select
        extracts.*,
        {{ dbt.last_day('extract_month_start', 'month') }} as as_of_date,
        row_number() over (
            partition by person_key, extract_month
            order by source_row desc, source_file desc
        ) as row_rank
    from extracts
),

aged as (
    select
        ranked.*,
        {{ dbt.safe_cast(completed_years('birth_date', 'as_of_date'), dbt.type_int()) }} as age_years
    from ranked
    where row_rank = 1
)

select
    {{ dbt.concat(['r.person_key', "'|'", 'r.extract_month']) }} as person_month_id,
    r.person_key,
    r.document_key,
    r.extract_month,
    r.extract_month_start,
    r.as_of_date,
    r.status,
    r.status in ({{ registry_regular_status_list() }}) as is_regular,
    r.document_type,
    r.sex,
    r.nationality_iso3,
    r.birth_date,
    r.age_years,
    {{ registry_age_band('r.age_years') }} as age_band,
    r.last_entry_date,
    r.status_start_date,
    r.permit_expiry_date,
    r.residence_ubigeo,
    d.department_code,
    d.department_name,
    coalesce(d.department_name, 'unknown') as department,
    r.source_file,
    r.source_row
from aged as r
left join departments as d
    on {{ department_code_from_ubigeo('r.residence_ubigeo') }} = d.department_code
