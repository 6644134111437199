-- R4V's intersector consolidation per country × admin1 × month (R/3_consolidated_report.R, "2.2 Intersector
-- level"), in both of R4V's models (consolidation_model), monthly and year to date (period_type):
--   sum         every column summed over the subsectors (people reached by two sectors count twice);
--   max_sector  each subsector's population-type totals split into girls/boys/women/men by the admin1's PiN
--               proportions of that subsector (PiN of the population type × group / PiN of the population type,
--               plan year = the month's year), rounded to whole people, then the maximum of each population type ×
--               group over the subsectors; population-type and age/sex totals and new beneficiaries are the sums
--               of those maxima, "other under/above 18" are 0 and CVA beneficiaries the maximum over subsectors,
--               as in R4V's script.
-- Differences from R4V's script, on purpose: the proportions are computed from Proportions.xlsx's PiN sheet
-- unrounded (R4V's pinproportions sheet rounds them to 2 decimals); where a subsector has no PiN split for a
-- population type in the admin1 (no PiN row, or a PiN of 0) the admin1's Intersector split is used, then 0 (R4V's
-- join leaves NA there, which drops the whole cell from the maximum); rounding goes half away from zero (R rounds
-- half to even). R4V's monthly totals (Total_monthly) are summed over subsectors in both models, as R4V does.

{%- set population_types = r4v_population_types() %}
{%- set groups = r4v_pin_age_sex_groups() %}
{%- set cells = [] %}
{%- for p in population_types %}{% for g in groups %}{% do cells.append(p ~ '_' ~ g) %}{% endfor %}{% endfor %}

with

sectors as (
    select * from {{ ref('int_partner_5w_pin_breakdowns') }}
),

sum_model as (
    select
        country,
        admin1,
        year,
        month,
        'sum' as consolidation_model
        {%- for m in r4v_measures() %},
        sum({{ m }}) as {{ m }}
        {%- endfor %}
    from sectors
    group by country, admin1, year, month
),

-- the PiN split of each population type into age/sex groups, per plan year × admin1 × subsector
proportions as (
    select
        plan_year as year,
        country,
        admin1,
        subsector
        {%- for p in population_types %}{% for g in groups %},
        max(case when population_type = '{{ p }}' and age_sex_group = '{{ g }}' then people_in_need end)
            / nullif(max(case when population_type = '{{ p }}' and age_sex_group = 'all' then people_in_need end), 0)
            as {{ p }}_{{ g }}
        {%- endfor %}{% endfor %}
    from {{ ref('int_partner_need') }}
    group by plan_year, country, admin1, subsector
),

split as (
    select
        s.country,
        s.admin1,
        s.year,
        s.month,
        s.subsector,
        s.monthly_total_beneficiaries,
        s.monthly_cva_beneficiaries,
        s.new_cva_beneficiaries
        {%- for p in population_types %}{% for g in groups %},
        round(s.new_{{ p }} * coalesce(sector_split.{{ p }}_{{ g }}, intersector_split.{{ p }}_{{ g }}, 0), 0)
            as {{ p }}_{{ g }}
        {%- endfor %}{% endfor %}
    from sectors as s
    left join proportions as sector_split
        on sector_split.year = s.year
        and sector_split.country = s.country
        and sector_split.admin1 = s.admin1
        and sector_split.subsector = s.subsector
    left join proportions as intersector_split
        on intersector_split.year = s.year
        and intersector_split.country = s.country
        and intersector_split.admin1 = s.admin1
        and intersector_split.subsector = 'Intersector'
),

maxima as (
    select
        country,
        admin1,
        year,
        month,
        sum(monthly_total_beneficiaries) as monthly_total_beneficiaries,
        sum(monthly_cva_beneficiaries) as monthly_cva_beneficiaries,
        max(new_cva_beneficiaries) as new_cva_beneficiaries
        {%- for p in population_types %}{% for g in groups %},
        max({{ p }}_{{ g }}) as {{ p }}_{{ g }}
        {%- endfor %}{% endfor %}
    from split
    group by country, admin1, year, month
),

max_sector_model as (
    select
        country,
        admin1,
        year,
        month,
        'max_sector' as consolidation_model,
        monthly_total_beneficiaries,
        monthly_cva_beneficiaries,
        {{ cells | join(' + ') }} as new_beneficiaries
        {%- for p in population_types %},
        {% for g in groups %}{{ p }}_{{ g }}{{ ' + ' if not loop.last }}{% endfor %} as new_{{ p }}
        {%- endfor %}
        {%- for g in groups %},
        {% for p in population_types %}{{ p }}_{{ g }}{{ ' + ' if not loop.last }}{% endfor %} as new_{{ g }}
        {%- endfor %},
        0 as new_other_under_18,
        0 as new_other_above_18,
        new_cva_beneficiaries
    from maxima
),

monthly as (
    select * from sum_model
    union all
    select
        country, admin1, year, month, consolidation_model
        {%- for m in r4v_measures() %},
        {{ m }}
        {%- endfor %}
    from max_sector_model
),

periods as (
    {{ r4v_month_and_year_to_date('monthly', ['country', 'admin1', 'consolidation_model']) }}
)

select
    {{ dbt.safe_cast('country', dbt.type_string()) }} as country,
    {{ dbt.safe_cast('admin1', dbt.type_string()) }} as admin1,
    {{ dbt.safe_cast('consolidation_model', dbt.type_string()) }} as consolidation_model,
    {{ dbt.safe_cast('year', dbt.type_int()) }} as year,
    {{ dbt.safe_cast('month', dbt.type_string()) }} as month,
    {{ dbt.safe_cast('period_type', dbt.type_string()) }} as period_type,
    {{ r4v_typed_measures() }}
from periods
