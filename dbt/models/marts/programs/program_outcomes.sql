-- Program outcomes from partners' beneficiary records: completion and placement (employed formal, employed informal,
-- self-employed) within N months of enrollment (N in var('program_outcome_windows'): 3 and 6), one row per
-- window × program × sex × single parent × LGBTIQ+ × disability × outcome, plus the margins (within each program:
-- each dimension alone, and the program as a whole; a dimension a row does not break down by reads 'all').
-- People are counted once per program across partners (int_program_participants: the earliest enrollment wins).
-- Denominator: the participants whose whole window is observable (enrolled_on + N months <= the last day of their
-- organization's last report month); people enrolled later are left out of that window, not counted as failures.
-- k-anonymity as in the registry marts: a row where the participants, the people with the outcome, or the people
-- without it (which the first two reveal) number fewer than var('program_min_count') (10) is 'suppressed': the
-- count and the rate are NULL, and participants too when they are themselves below k. No secondary suppression.
{%- set windows = var('program_outcome_windows', [3, 6]) %}
{%- set k = var('program_min_count', 10) %}
{%- set outcomes = ['completed', 'employed_formal', 'employed_informal', 'self_employed'] %}

with

participants as (
    select
        program,
        coalesce(sex, 'unknown') as sex,
        {{ program_yes_no('is_single_parent') }} as single_parent,
        {{ program_yes_no('is_lgbtiq') }} as lgbtiq,
        {{ program_yes_no('has_disability') }} as disability,
        outcome
        {%- for months in windows %},
        is_observable_{{ months }}m,
        completed_within_{{ months }}m,
        outcome_within_{{ months }}m
        {%- endfor %}
    from {{ ref('int_program_participants') }}
),

observed as (
    {%- for months in windows %}
    select
        {{ months }} as months_after_enrollment,
        program,
        sex,
        single_parent,
        lgbtiq,
        disability,
        completed_within_{{ months }}m as is_completed,
        outcome_within_{{ months }}m and outcome = 'employed_formal' as is_employed_formal,
        outcome_within_{{ months }}m and outcome = 'employed_informal' as is_employed_informal,
        outcome_within_{{ months }}m and outcome = 'self_employed' as is_self_employed
    from participants
    where is_observable_{{ months }}m
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

aggregated as (
    select
        months_after_enrollment,
        program,
        sex,
        single_parent,
        lgbtiq,
        disability,
        grouping(sex) as is_all_sexes,
        grouping(single_parent) as is_all_single_parent,
        grouping(lgbtiq) as is_all_lgbtiq,
        grouping(disability) as is_all_disability,
        count(*) as participants
        {%- for outcome in outcomes %},
        {{ count_if('is_' ~ outcome) }} as {{ outcome }}
        {%- endfor %}
    from observed
    group by grouping sets (
        (months_after_enrollment, program, sex, single_parent, lgbtiq, disability),
        (months_after_enrollment, program, sex),
        (months_after_enrollment, program, single_parent),
        (months_after_enrollment, program, lgbtiq),
        (months_after_enrollment, program, disability),
        (months_after_enrollment, program)
    )
),

cells as (
    select
        months_after_enrollment,
        program,
        case when is_all_sexes = 1 then 'all' else sex end as sex,
        case when is_all_single_parent = 1 then 'all' else single_parent end as single_parent,
        case when is_all_lgbtiq = 1 then 'all' else lgbtiq end as lgbtiq,
        case when is_all_disability = 1 then 'all' else disability end as disability,
        participants
        {%- for outcome in outcomes %},
        {{ outcome }}
        {%- endfor %}
    from aggregated
),

long as (
    {%- for outcome in outcomes %}
    select
        cells.*,
        '{{ outcome }}' as outcome,
        {{ outcome }} as participants_with_outcome
    from cells
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

flagged as (
    select
        long.*,
        participants < {{ k }} as is_small_cohort,
        (participants < {{ k }}
            or participants_with_outcome < {{ k }}
            or participants - participants_with_outcome < {{ k }}) as is_suppressed
    from long
)

select
    {{ dbt.safe_cast('months_after_enrollment', dbt.type_int()) }} as months_after_enrollment,
    {{ dbt.safe_cast('program', dbt.type_string()) }} as program,
    {{ dbt.safe_cast('sex', dbt.type_string()) }} as sex,
    {{ dbt.safe_cast('single_parent', dbt.type_string()) }} as single_parent,
    {{ dbt.safe_cast('lgbtiq', dbt.type_string()) }} as lgbtiq,
    {{ dbt.safe_cast('disability', dbt.type_string()) }} as disability,
    {{ dbt.safe_cast('outcome', dbt.type_string()) }} as outcome,
    {{ dbt.safe_cast('case when not is_small_cohort then participants end', dbt.type_bigint()) }} as participants,
    {{ dbt.safe_cast('case when not is_suppressed then participants_with_outcome end', dbt.type_bigint()) }}
        as participants_with_outcome,
    {{ dbt.safe_cast('case when not is_suppressed then participants_with_outcome * 1.0 / participants end',
                     type_double()) }} as rate,
    {{ dbt.safe_cast("case when is_suppressed then 'suppressed' else 'reliable' end", dbt.type_string()) }}
        as reliability
from flagged
