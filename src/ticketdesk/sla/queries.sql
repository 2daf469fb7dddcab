-- name: list_policies
-- In the order they are tried.
select id, name, position, ticket_type, label, calendar, targets, created_at, updated_at
from sla_policies order by position, lower(name), id;

-- name: get_policy
select id, name, position, ticket_type, label, calendar, targets, created_at, updated_at
from sla_policies where id = %(policy_id)s;

-- name: insert_policy
insert into sla_policies (name, position, ticket_type, label, calendar, targets)
values (%(name)s, %(position)s, %(ticket_type)s, %(label)s, %(calendar)s, %(targets)s)
returning id, name, position, ticket_type, label, calendar, targets, created_at, updated_at;

-- name: update_policy
update sla_policies set
    name = %(name)s, position = %(position)s, ticket_type = %(ticket_type)s,
    label = %(label)s, calendar = %(calendar)s, targets = %(targets)s, updated_at = now()
where id = %(policy_id)s
returning id, name, position, ticket_type, label, calendar, targets, created_at, updated_at;

-- name: delete_policy
delete from sla_policies where id = %(policy_id)s returning id;

-- name: rename_label
-- A renamed label keeps its policies (labels match whatever their case).
update sla_policies set label = %(new)s, updated_at = now()
where lower(label) = lower(%(old)s);

-- name: hold_policy
-- The policy a ticket's clocks are about to point at, kept from being deleted until they
-- are saved (no row: it was deleted meanwhile).
select id from sla_policies where id = %(policy_id)s for key share;

-- name: ticket_clocks
select ticket_id, policy_id, policy_name, calendar, first_response_minutes,
       resolution_minutes, started_at, pauses, first_responded_at,
       first_response_breached_at, resolution_breached_at, first_response_due_at,
       resolution_due_at
from ticket_slas where ticket_id = %(ticket_id)s;

-- name: save_clocks
insert into ticket_slas (
    ticket_id, policy_id, policy_name, calendar, first_response_minutes, resolution_minutes,
    started_at, pauses, first_responded_at, first_response_breached_at,
    resolution_breached_at, first_response_due_at, resolution_due_at)
values (
    %(ticket_id)s, %(policy_id)s, %(policy_name)s, %(calendar)s, %(first_response_minutes)s,
    %(resolution_minutes)s, %(started_at)s, %(pauses)s, %(first_responded_at)s,
    %(first_response_breached_at)s, %(resolution_breached_at)s, %(first_response_due_at)s,
    %(resolution_due_at)s)
on conflict (ticket_id) do update set
    policy_id = excluded.policy_id, policy_name = excluded.policy_name,
    calendar = excluded.calendar, first_response_minutes = excluded.first_response_minutes,
    resolution_minutes = excluded.resolution_minutes, started_at = excluded.started_at,
    pauses = excluded.pauses, first_responded_at = excluded.first_responded_at,
    first_response_breached_at = excluded.first_response_breached_at,
    resolution_breached_at = excluded.resolution_breached_at,
    first_response_due_at = excluded.first_response_due_at,
    resolution_due_at = excluded.resolution_due_at;

-- name: delete_clocks
delete from ticket_slas where ticket_id = %(ticket_id)s;
