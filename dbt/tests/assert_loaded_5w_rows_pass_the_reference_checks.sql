-- The relational checks of the 5W rows, in SQL: every row that loaded (the load-time row rules set the others
-- aside) has its location, organization and sector–indicator pair in the reference lists and a month and count
-- the warehouse understands. A row failing here means the SQL lists and the load-time lists disagree (a list
-- changed without the 5W files being validated again): the build stops rather than count such rows.
select activity_row_id, quarantine_reason
from {{ ref('int_partner_5w_activities') }}
where not is_valid
