-- R4V's sector-level consolidation (R/3_consolidated_report.R, "2.1 Sector level"): valid 5W rows of PiN-type
-- indicators that are RMRP activities, summed per country × admin1 × month × subsector, with the five population
-- types and six age/sex groups of the new beneficiaries. Empty counts count as 0, as in R4V's script.
-- Every admin1 × subsector with reach in a year gets a row for every month its country reported that year (0 where
-- nothing was reported), so year-to-date sums downstream have every month.

with

valid_rows as (
    select * from {{ ref('int_partner_5w_activities') }}
    where is_valid
),

pin_rows as (
    select * from valid_rows
    where indicator_type = 'PiN'
        and {{ text_to_boolean('is_rmrp_activity') }}
),

sums as (
    select
        country,
        admin1,
        subsector,
        activity_year as year,
        activity_month as month,
        sum(coalesce(total_monthly_beneficiaries, 0)) as monthly_total_beneficiaries,
        sum(case when {{ text_to_boolean('is_cash_voucher_assistance') }}
            then coalesce(total_monthly_beneficiaries, 0) else 0 end) as monthly_cva_beneficiaries,
        sum(coalesce(new_beneficiaries, 0)) as new_beneficiaries
        {%- for p in r4v_population_types() %},
        sum(coalesce(new_{{ p }}, 0)) as new_{{ p }}
        {%- endfor %}
        {%- for g in r4v_age_sex_groups() %},
        sum(coalesce(new_{{ g }}, 0)) as new_{{ g }}
        {%- endfor %},
        sum(case when {{ text_to_boolean('is_cash_voucher_assistance') }}
            then coalesce(new_beneficiaries, 0) else 0 end) as new_cva_beneficiaries,
        count(*) as activity_rows
    from pin_rows
    group by country, admin1, subsector, activity_year, activity_month
),

-- the months each country reported (any valid 5W row) in each year
months as (
    select distinct country, activity_year as year, activity_month as month
    from valid_rows
    where activity_month is not null
),

cells as (
    select distinct country, admin1, subsector, year from sums
)

select
    c.country,
    c.admin1,
    c.subsector,
    c.year,
    m.month
    {%- for measure in r4v_measures() + ['activity_rows'] %},
    coalesce(s.{{ measure }}, 0) as {{ measure }}
    {%- endfor %}
from cells as c
inner join months as m
    on m.country = c.country
    and m.year = c.year
left join sums as s
    on s.country = c.country
    and s.admin1 = c.admin1
    and s.subsector = c.subsector
    and s.month = m.month
