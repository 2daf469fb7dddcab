-- SLA policies: first-response and resolution targets in business hours, and each
-- ticket's clocks. The runner applies this file in one transaction, so the ACCESS
-- EXCLUSIVE lock the alter takes is held through the index builds below: give up rather
-- than queue every reader of tickets behind a long-running transaction.
set local lock_timeout = '5s';

-- An admin's policy. The first in (position, name) order that matches a ticket (its
-- type and label conditions, when set, and a target for its priority) applies.
create table sla_policies (
    id uuid primary key default uuidv7(),
    name text not null,
    position integer not null default 0,
    ticket_type text check (ticket_type in ('bug', 'feature', 'support')),
    label text,
    -- {"time_zone": "Europe/Berlin", "week": {"mon": [["09:00", "17:00"]], ...},
    --  "holiday_country": "DE", "holiday_subdivision": "BE", "holidays": ["2026-12-24"]}
    calendar jsonb not null check (jsonb_typeof(calendar) = 'object'),
    -- [{"priority": "high", "first_response_minutes": 60, "resolution_minutes": 480}, ...]
    targets jsonb not null check (jsonb_typeof(targets) = 'array'),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create unique index sla_policies_name_key on sla_policies (lower(name));
create index sla_policies_order_idx on sla_policies (position, lower(name));

-- A ticket's clocks: the targets and the calendar of the policy as it was when the
-- ticket was targeted (editing a policy later does not move tickets already running),
-- and the stretches the clocks stood still (waiting, resolved, closed).
create table ticket_slas (
    ticket_id uuid primary key references tickets on delete cascade,
    policy_id uuid references sla_policies on delete set null,
    policy_name text not null,
    calendar jsonb not null,
    first_response_minutes integer,
    resolution_minutes integer,
    started_at timestamptz not null,
    -- [[from, until], ...]; the last one's until is null while the clock stands still.
    pauses jsonb not null default '[]',
    first_responded_at timestamptz,
    first_response_breached_at timestamptz,
    resolution_breached_at timestamptz,
    first_response_due_at timestamptz,
    resolution_due_at timestamptz
);
create index ticket_slas_policy_idx on ticket_slas (policy_id) where policy_id is not null;

-- What lists read of the clocks: the state (null: no SLA), the nearest due time of a
-- target not yet met whose clock runs (or that is already overdue), the same as a sort
-- key that is never null (no clock sorts last), and when the timed job must look next
-- (null: nothing left to happen on its own).
alter table tickets
    add column sla_state text check (sla_state in ('ok', 'at_risk', 'breached')),
    add column sla_due_at timestamptz,
    add column sla_sort_at timestamptz not null default '9999-12-31 00:00:00+00',
    add column sla_next_check_at timestamptz;

-- sort=sla_due, and sla= filters in that order.
create index tickets_sla_sort_idx on tickets (sla_sort_at, id);
create index tickets_sla_state_idx on tickets (sla_state, sla_sort_at, id)
    where sla_state is not null;
-- The timed job's candidates: only tickets whose clock still has something ahead.
create index tickets_sla_next_check_idx on tickets (sla_next_check_at)
    where sla_next_check_at is not null;
