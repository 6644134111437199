-- The coordinator's list of organizations (English and Spanish names) and their role in the response plan.
select
    trim(name) as organization_name,
    trim(name_es) as organization_name_es,
    lower(trim(role)) as role,
    {{ provenance_columns() }}
from {{ source('raw', 'partner_organizations') }}
