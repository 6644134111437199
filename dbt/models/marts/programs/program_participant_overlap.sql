-- People who appear in the beneficiary records of more than one partner organization (matched by the keyed hash
-- of their id), per pair of organizations (organization_a sorts before organization_b) and overall
-- (organization_a = organization_b = 'all': people with two or more organizations). `overlap` = 'any_program'
-- (enrolled with both, in any programs) or 'same_program' (enrolled in the same program with both: these are the
-- people int_program_participants counts once). Every pair of reporting organizations has a row, also with no
-- shared people. A count below var('program_min_count') (10, zero included) is published as 'suppressed' (NULL).
{%- set k = var('program_min_count', 10) %}

with

enrollments as (
    select distinct organization, beneficiary_key, program
    from {{ ref('stg_partners__beneficiaries') }}
),

people as (
    select distinct organization, beneficiary_key
    from enrollments
),

organizations as (
    select distinct organization from people
),

pairs as (
    select
        a.organization as organization_a,
        b.organization as organization_b
    from organizations as a
    inner join organizations as b
        on a.organization < b.organization
),

shared_any as (
    select
        a.organization as organization_a,
        b.organization as organization_b,
        count(distinct a.beneficiary_key) as people
    from people as a
    inner join people as b
        on a.beneficiary_key = b.beneficiary_key
        and a.organization < b.organization
    group by a.organization, b.organization
),

shared_program as (
    select
        a.organization as organization_a,
        b.organization as organization_b,
        count(distinct a.beneficiary_key) as people
    from enrollments as a
    inner join enrollments as b
        on a.beneficiary_key = b.beneficiary_key
        and a.program = b.program
        and a.organization < b.organization
    group by a.organization, b.organization
),

by_pair as (
    select
        p.organization_a,
        p.organization_b,
        'any_program' as overlap,
        coalesce(s.people, 0) as people
    from pairs as p
    left join shared_any as s
        on s.organization_a = p.organization_a
        and s.organization_b = p.organization_b
    union all
    select
        p.organization_a,
        p.organization_b,
        'same_program' as overlap,
        coalesce(s.people, 0) as people
    from pairs as p
    left join shared_program as s
        on s.organization_a = p.organization_a
        and s.organization_b = p.organization_b
),

people_any as (
    select beneficiary_key
    from people
    group by beneficiary_key
    having count(*) >= 2
),

people_same_program as (
    select distinct beneficiary_key
    from (
        select beneficiary_key, program
        from enrollments
        group by beneficiary_key, program
        having count(distinct organization) >= 2
    ) as repeated
),

overall as (
    select 'all' as organization_a, 'all' as organization_b, 'any_program' as overlap, count(*) as people
    from people_any
    union all
    select 'all' as organization_a, 'all' as organization_b, 'same_program' as overlap, count(*) as people
    from people_same_program
),

counts as (
    select * from by_pair
    union all
    select * from overall
)

select
    {{ dbt.safe_cast('organization_a', dbt.type_string()) }} as organization_a,
    {{ dbt.safe_cast('organization_b', dbt.type_string()) }} as organization_b,
    {{ dbt.safe_cast('overlap', dbt.type_string()) }} as overlap,
    {{ dbt.safe_cast('case when people >= ' ~ k ~ ' then people end', dbt.type_bigint()) }} as people,
    {{ dbt.safe_cast("case when people < " ~ k ~ " then 'suppressed' else 'reliable' end", dbt.type_string()) }}
        as reliability
from counts
