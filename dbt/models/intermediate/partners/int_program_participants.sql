-- One row per person × program across partners: the partners' monthly beneficiary records collapsed into
-- enrollments (organization × person × program × enrollment date), then one enrollment per person and program.
-- People are matched across partners by the keyed hash of their id (beneficiary_key). When a person is enrolled in
-- the same program by several organizations (or twice by one), the EARLIEST enrollment wins (ties: the organization
-- whose name sorts first): it starts the person's clock, and its completion and outcome are the person's.
-- For each outcome window of var('program_outcome_windows') (months after enrollment) the row says whether the
-- window is observable (it ends by the last day of the winning organization's last report month: later outcomes
-- cannot be known yet) and whether completion / the recorded outcome fell within it (date <= enrolled_on + N months).
{%- set windows = var('program_outcome_windows', [3, 6]) %}

with

records as (
    select * from {{ ref('stg_partners__beneficiaries') }}
    -- a record without a valid enrollment date starts no clock (the raw suite requires the date)
    where enrolled_on is not null
        and program is not null
),

organization_data as (
    -- how far each organization's records reach: the last day of its last report month
    select
        organization,
        {{ dbt.safe_cast(dbt.last_day('max(report_month_start)', 'month'), 'date') }} as data_through
    from {{ ref('stg_partners__beneficiaries') }}
    group by organization
),

ranked_records as (
    select
        records.*,
        -- the person's attributes as last reported for this enrollment
        row_number() over (
            partition by organization, beneficiary_key, program, enrolled_on
            order by report_month desc, source_file desc, source_row desc
        ) as recency_rank,
        -- the enrollment's outcome: its first recorded placement (employed formal / informal / self-employed),
        -- else its first recorded outcome of any kind
        row_number() over (
            partition by organization, beneficiary_key, program, enrolled_on
            order by
                case when outcome is null then 2
                     when outcome in ('employed_formal', 'employed_informal', 'self_employed') then 0
                     else 1 end,
                outcome_on,
                report_month
        ) as outcome_rank
    from records
),

enrollments as (
    select
        organization,
        beneficiary_key,
        program,
        enrolled_on,
        min(completed_on) as completed_on,
        min(report_month) as first_report_month,
        max(report_month) as last_report_month,
        count(*) as monthly_records
    from records
    group by organization, beneficiary_key, program, enrolled_on
),

enrollment_details as (
    select
        e.*,
        latest.sex,
        latest.birth_year,
        latest.nationality,
        latest.admin1,
        latest.is_single_parent,
        latest.is_lgbtiq,
        latest.has_disability,
        outcomes.outcome,
        case when outcomes.outcome is not null then outcomes.outcome_on end as outcome_on,
        case when outcomes.outcome is not null then outcomes.monthly_income_pen end as monthly_income_pen
    from enrollments as e
    inner join ranked_records as latest
        on latest.organization = e.organization
        and latest.beneficiary_key = e.beneficiary_key
        and latest.program = e.program
        and latest.enrolled_on = e.enrolled_on
        and latest.recency_rank = 1
    inner join ranked_records as outcomes
        on outcomes.organization = e.organization
        and outcomes.beneficiary_key = e.beneficiary_key
        and outcomes.program = e.program
        and outcomes.enrolled_on = e.enrolled_on
        and outcomes.outcome_rank = 1
),

ranked_enrollments as (
    select
        enrollment_details.*,
        row_number() over (
            partition by beneficiary_key, program
            order by enrolled_on, organization
        ) as enrollment_order,
        count(*) over (partition by beneficiary_key, program) as enrollments_in_program
    from enrollment_details
),

organizations_per_person_program as (
    select
        beneficiary_key,
        program,
        count(distinct organization) as organizations_in_program
    from enrollment_details
    group by beneficiary_key, program
),

participants as (
    select
        r.*,
        o.organizations_in_program,
        d.data_through
    from ranked_enrollments as r
    inner join organizations_per_person_program as o
        on o.beneficiary_key = r.beneficiary_key
        and o.program = r.program
    inner join organization_data as d
        on d.organization = r.organization
    where r.enrollment_order = 1
),

windows as (
    select
        participants.*
        {%- for months in windows %},
        {{ dbt.safe_cast(dbt.dateadd('month', months, 'enrolled_on'), 'date') }} as window_end_{{ months }}m
        {%- endfor %}
    from participants
)

select
    {{ dbt.safe_cast('beneficiary_key', dbt.type_string()) }} as beneficiary_key,
    {{ dbt.safe_cast('program', dbt.type_string()) }} as program,
    {{ dbt.safe_cast('organization', dbt.type_string()) }} as organization,
    {{ dbt.safe_cast('organizations_in_program', dbt.type_bigint()) }} as organizations_in_program,
    {{ dbt.safe_cast('enrollments_in_program', dbt.type_bigint()) }} as enrollments_in_program,
    enrolled_on,
    completed_on,
    {{ dbt.safe_cast('outcome', dbt.type_string()) }} as outcome,
    outcome_on,
    monthly_income_pen,
    {{ dbt.safe_cast('sex', dbt.type_string()) }} as sex,
    birth_year,
    {{ dbt.safe_cast('nationality', dbt.type_string()) }} as nationality,
    {{ dbt.safe_cast('admin1', dbt.type_string()) }} as admin1,
    is_single_parent,
    is_lgbtiq,
    has_disability,
    {{ dbt.safe_cast('first_report_month', dbt.type_string()) }} as first_report_month,
    {{ dbt.safe_cast('last_report_month', dbt.type_string()) }} as last_report_month,
    {{ dbt.safe_cast('monthly_records', dbt.type_bigint()) }} as monthly_records,
    data_through
    {%- for months in windows %},
    window_end_{{ months }}m,
    window_end_{{ months }}m <= data_through as is_observable_{{ months }}m,
    coalesce(completed_on <= window_end_{{ months }}m, false) as completed_within_{{ months }}m,
    coalesce(outcome_on <= window_end_{{ months }}m, false) as outcome_within_{{ months }}m
    {%- endfor %}
from windows
