-- The coordinator's list of valid sector–indicator pairs (English and Spanish) and how each is consolidated.
select
    trim(subsector) as subsector,
    trim(subsector_es) as subsector_es,
    trim(indicator) as indicator,
    trim(indicator_es) as indicator_es,
    trim(indicator_type) as indicator_type,
    {{ provenance_columns() }}
from {{ source('raw', 'partner_indicators') }}
