-- The registry indicators (domain 'registry', source 'migraciones') in the column layout of `indicators`, which
-- unions them with the survey estimates. One row per indicator × extract month ('YYYY-MM') × region:
--   registered_stock       persons in the extract (unit people)                       by department and 'all'
--   regular_share          regular / registered (unit share; n_unweighted = registered) by department and 'all'
--   expiring_30d/60d/90d   persons whose permit expires in (as_of, as_of + d] (people) by department and 'all'
--   arriving, leaving      persons in M not in M−1 / in M−1 not in M (people)          'all' only, months whose
--                                                                                       previous calendar month
--                                                                                       was delivered
-- Conventions of `indicators`: region is the department's INEI name, 'unknown' for an empty ubigeo, 'all' for the
-- country; population_group 'all' (every person in the registry, whatever the nationality: not the surveys'
-- Venezuelan 'migrant' group); sex and age_group 'all'. Registry figures are a census of the extract: se, ci and cv
-- are NULL. k-anonymity as in the registry marts: a count below var('registry_min_count') is 'suppressed', with
-- estimate AND n_unweighted NULL (n_unweighted would be the count itself); regular_share is suppressed when
-- registered, regular or registered − regular is below it.

{%- set horizons = registry_expiry_horizons() %}

with

person_months as (
    select
        extract_month,
        extract_month_start,
        person_key,
        department,
        is_regular,
        {{ dbt.datediff('as_of_date', 'permit_expiry_date', 'day') }} as days_to_expiry
    from {{ ref('int_registry_person_months') }}
),

-- registered, regular and expiring counts per month × department and per month
stock as (
    select
        extract_month,
        case when grouping(department) = 1 then 'all' else department end as region,
        count(*) as registered,
        {{ count_if('is_regular') }} as regular
        {%- for horizon in horizons %},
        {{ count_if('days_to_expiry > 0 and days_to_expiry <= ' ~ horizon) }} as expiring_{{ horizon }}d
        {%- endfor %}
    from person_months
    group by grouping sets (
        (extract_month, department),
        (extract_month)
    )
),

months as (
    select distinct extract_month, extract_month_start
    from person_months
),

month_pairs as (
    select
        m.extract_month,
        previous.extract_month as previous_extract_month
    from months as m
    inner join months as previous
        on previous.extract_month_start
            = {{ dbt.safe_cast(dbt.dateadd('month', -1, 'm.extract_month_start'), 'date') }}
),

current_rows as (
    select p.extract_month, pm.person_key
    from month_pairs as p
    inner join person_months as pm
        on pm.extract_month = p.extract_month
),

previous_rows as (
    select p.extract_month, pm.person_key
    from month_pairs as p
    inner join person_months as pm
        on pm.extract_month = p.previous_extract_month
),

flows as (
    select
        coalesce(c.extract_month, b.extract_month) as extract_month,
        {{ count_if('b.person_key is null') }} as arriving,
        {{ count_if('c.person_key is null') }} as leaving
    from current_rows as c
    full outer join previous_rows as b
        on c.extract_month = b.extract_month
        and c.person_key = b.person_key
    group by coalesce(c.extract_month, b.extract_month)
),

-- one row per indicator × month × region, with the count published and the counts that decide suppression
indicator_rows as (
    select
        'registered_stock' as indicator_id, extract_month, region, 'people' as unit,
        registered * 1.0 as estimate, registered as n_unweighted,
        {{ registry_is_small(['registered']) }} as is_suppressed
    from stock
    union all
    select
        'regular_share' as indicator_id, extract_month, region, 'share' as unit,
        regular * 1.0 / registered as estimate, registered as n_unweighted,
        {{ registry_is_small(['registered', 'regular', 'registered - regular']) }} as is_suppressed
    from stock
    {%- for horizon in horizons %}
    union all
    select
        'expiring_{{ horizon }}d' as indicator_id, extract_month, region, 'people' as unit,
        expiring_{{ horizon }}d * 1.0 as estimate, expiring_{{ horizon }}d as n_unweighted,
        {{ registry_is_small(['expiring_' ~ horizon ~ 'd']) }} as is_suppressed
    from stock
    {%- endfor %}
    union all
    select
        'arriving' as indicator_id, extract_month, 'all' as region, 'people' as unit,
        arriving * 1.0 as estimate, arriving as n_unweighted,
        {{ registry_is_small(['arriving']) }} as is_suppressed
    from flows
    union all
    select
        'leaving' as indicator_id, extract_month, 'all' as region, 'people' as unit,
        leaving * 1.0 as estimate, leaving as n_unweighted,
        {{ registry_is_small(['leaving']) }} as is_suppressed
    from flows
)

select
    {{ dbt.safe_cast('indicator_id', dbt.type_string()) }} as indicator_id,
    {{ dbt.safe_cast("'registry'", dbt.type_string()) }} as domain,
    {{ dbt.safe_cast("'migraciones'", dbt.type_string()) }} as source,
    {{ dbt.safe_cast('extract_month', dbt.type_string()) }} as period,
    {{ dbt.safe_cast("'all'", dbt.type_string()) }} as population_group,
    {{ dbt.safe_cast("'all'", dbt.type_string()) }} as sex,
    {{ dbt.safe_cast('region', dbt.type_string()) }} as region,
    {{ dbt.safe_cast("'all'", dbt.type_string()) }} as age_group,
    {{ dbt.safe_cast('case when not is_suppressed then estimate end', type_double()) }} as estimate,
    {{ dbt.safe_cast('null', type_double()) }} as se,
    {{ dbt.safe_cast('null', type_double()) }} as ci_low,
    {{ dbt.safe_cast('null', type_double()) }} as ci_high,
    {{ dbt.safe_cast('null', type_double()) }} as cv,
    {{ dbt.safe_cast('case when not is_suppressed then n_unweighted end', dbt.type_bigint()) }} as n_unweighted,
    {{ dbt.safe_cast('unit', dbt.type_string()) }} as unit,
    {{ registry_reliability('is_suppressed') }} as reliability
from indicator_rows
