-- One row per person × extract month of the Migraciones registry, with the status, whether it is a regular one,
-- the department of residence and typed dates. A person listed twice in one extract (a delivery defect that the
-- raw checks report) is kept once: the row that comes last in the file.

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
        row_number() over (
            partition by person_key, extract_month
            order by source_row desc, source_file desc
        ) as row_rank
    from extracts
)

select
    {{ dbt.concat(['r.person_key', "'|'", 'r.extract_month']) }} as person_month_id,
    r.person_key,
    r.document_key,
    r.extract_month,
    r.extract_month_start,
    {{ dbt.last_day('r.extract_month_start', 'month') }} as as_of_date,
    r.status,
    r.status in (
        {%- for status in var('regular_statuses') %}'{{ status }}'{{ ", " if not loop.last }}{% endfor -%}
    ) as is_regular,
    r.document_type,
    r.sex,
    r.nationality_iso3,
    r.birth_date,
    r.last_entry_date,
    r.status_start_date,
    r.permit_expiry_date,
    r.residence_ubigeo,
    d.department_code,
    d.department_name,
    r.source_file,
    r.source_row
from ranked as r
left join departments as d
    on {{ department_code_from_ubigeo('r.residence_ubigeo') }} = d.department_code
where r.row_rank = 1
