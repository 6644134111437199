-- How many rows of each partner 5W file were set aside at load, by month reported and rule, so the coordinator
-- sees what the consolidated figures leave out and which partners to follow up with (the rows themselves, with
-- sheet, row, columns and reason, stay in raw.partner_5w_activities_quarantine and in each file's error report
-- workbook). 5W rows hold no personal data and these are counts of rows, not of people: nothing is suppressed.

select
    {{ dbt.safe_cast('source_file', dbt.type_string()) }} as source_file,
    {{ dbt.safe_cast('month', dbt.type_string()) }} as activity_month,
    {{ dbt.safe_cast('rule', dbt.type_string()) }} as rule,
    {{ dbt.safe_cast('min(reason)', dbt.type_string()) }} as reason,
    {{ dbt.safe_cast('count(*)', dbt.type_bigint()) }} as rows_quarantined
from {{ source('raw', 'partner_5w_activities_quarantine') }}
group by source_file, month, rule
