-- A ticket's columns as every query reads and writes them: the fields of the Ticket
-- model, plus the rank the priority sort pages by. The list exists here once. A view of
-- one table is planned exactly like the table, and PostgreSQL writes through it, so
-- inserts and updates return these columns with `returning *` too.
create view ticket_rows as
select id, number, user_id, type, priority, priority_rank, status, title, description,
       assigned_to_user_id, github_issue_number, tags, metadata, version,
       created_at, updated_at, resolved_at, closed_at
from tickets;
