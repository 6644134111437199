-- R4V's sector-level consolidation per country × admin1 × subsector × month, monthly and year to date
-- (period_type): the sums of new beneficiaries of valid 5W rows of PiN-type RMRP activities, with their population
-- types, age/sex groups and CVA beneficiaries, and R4V's monthly totals (monthly rows only).

with

sectors as (
    select * from {{ ref('int_partner_5w_pin_breakdowns') }}
),

periods as (
    {{ r4v_month_and_year_to_date('sectors', ['country', 'admin1', 'subsector']) }}
)

select
    {{ dbt.safe_cast('country', dbt.type_string()) }} as country,
    {{ dbt.safe_cast('admin1', dbt.type_string()) }} as admin1,
    {{ dbt.safe_cast('subsector', dbt.type_string()) }} as subsector,
    {{ dbt.safe_cast('year', dbt.type_int()) }} as year,
    {{ dbt.safe_cast('month', dbt.type_string()) }} as month,
    {{ dbt.safe_cast('period_type', dbt.type_string()) }} as period_type,
    {{ r4v_typed_measures() }}
from periods
