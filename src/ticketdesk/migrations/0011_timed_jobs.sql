-- Timed jobs: escalating tickets left without a staff reply, closing resolved tickets.
-- The runner applies this file in one transaction, so the ACCESS EXCLUSIVE lock the alter
-- takes is held through the update and index builds below: give up rather than queue
-- every reader of tickets behind a long-running transaction that holds a lock on it. On
-- 1,000,000 tickets (bench/list_tickets.py's fill, 1.5 GB, 20,000 of them escalated) the
-- whole file took 2.7 s.
set local lock_timeout = '5s';

-- The escalation job moved to tickets.escalate: a notifications.escalate job still
-- queued would fail, its task gone (stop the old workers before migrating).
delete from procrastinate_jobs where task_name = 'notifications.escalate' and status = 'todo';

-- When admins were alerted that the ticket had waited too long for staff; null: never.
-- Replaces ticket_escalations, whose rows it keeps.
alter table tickets add column escalated_at timestamptz;
update tickets t set escalated_at = e.escalated_at
from ticket_escalations e where e.ticket_id = t.id;
drop table ticket_escalations;

-- The escalation job's candidates: tickets of one priority, not yet escalated nor
-- resolved or closed, oldest first. Few rows however many tickets there are: on
-- 1,000,000 tickets (bench/list_tickets.py's, a staff reply on each, what is over a day
-- old escalated) the job's query took 10 ms; ordered by id instead, it read every
-- ticket, 1.6 s.
create index tickets_escalation_due_idx on tickets (priority, created_at)
    where escalated_at is null and status in ('open', 'in_progress', 'waiting');

-- The auto-close job's candidates: resolved tickets, by when they were resolved. On the
-- same 1,000,000 tickets, 3,300 of them resolved, a batch of 200 took 0.5 ms.
create index tickets_resolved_at_idx on tickets (resolved_at) where status = 'resolved';
