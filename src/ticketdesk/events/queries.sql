-- name: insert_event
insert into ticket_events (ticket_id, actor_id, kind, data, is_internal)
values (%(ticket_id)s, %(actor_id)s, %(kind)s, %(data)s, %(is_internal)s)
returning id;

-- name: insert_events
-- Several events in one statement (an import's), in the order given.
insert into ticket_events (ticket_id, actor_id, kind, data, is_internal)
select ticket_id, actor_id, kind, data, is_internal
from unnest(%(ticket_id)s::uuid[], %(actor_id)s::uuid[], %(kind)s::text[], %(data)s::jsonb[],
            %(is_internal)s::boolean[])
    with ordinality as given (ticket_id, actor_id, kind, data, is_internal, position)
order by position;

-- Each query below returns an EventRow: the event with what deciding who may see it
-- needs (the ticket's submitter, whether it is internal, the actor's address), which
-- service.shown_to applies.

-- name: list_events
-- include_internal and all_kinds only keep a submitter's pages full; shown_to decides.
select e.id, e.ticket_id, t.number as ticket_number, t.user_id as submitter_id,
       e.kind, e.data, e.is_internal, e.created_at,
       case when u.id is null then null else jsonb_build_object(
           'id', u.id, 'name', u.name, 'role', u.role, 'email', u.email) end as actor
from ticket_events e
join tickets t on t.id = e.ticket_id
left join users u on u.id = e.actor_id
where e.ticket_id = %(ticket_id)s
  and (%(include_internal)s or not e.is_internal)
  and (%(all_kinds)s or e.kind = any(%(everyone_kinds)s::text[]))
  and (%(after_id)s::uuid is null or e.id > %(after_id)s)
order by e.id
limit %(limit)s;

-- name: events_by_ids
-- The ticket and the actor looked up per event (lateral, kept apart by `limit 1`): a few
-- index probes each, never a scan of every ticket whatever the planner guesses.
select e.id, e.ticket_id, t.number as ticket_number, t.user_id as submitter_id,
       e.kind, e.data, e.is_internal, e.created_at, a.actor
from ticket_events e
cross join lateral (select number, user_id from tickets where id = e.ticket_id limit 1) t
left join lateral (
    select jsonb_build_object('id', u.id, 'name', u.name, 'role', u.role, 'email', u.email)
    from users u where u.id = e.actor_id limit 1) a(actor) on true
where e.id = any(%(ids)s::uuid[])
order by e.id;

-- name: events_from
-- Every ticket's events from an id on, oldest first: a range of the primary key, so at
-- most `limit` index entries are read however many events there are.
select e.id, e.ticket_id, t.number as ticket_number, t.user_id as submitter_id,
       e.kind, e.data, e.is_internal, e.created_at, a.actor
from (select * from ticket_events where id >= %(from_id)s order by id limit %(limit)s) e
cross join lateral (select number, user_id from tickets where id = e.ticket_id limit 1) t
left join lateral (
    select jsonb_build_object('id', u.id, 'name', u.name, 'role', u.role, 'email', u.email)
    from users u where u.id = e.actor_id limit 1) a(actor) on true
order by e.id;

-- name: hide_custom_field_changes
-- A field made staff-only: its past changes become staff's too (a rare admin action; it
-- reads every event of the kind).
update ticket_events set is_internal = true
where kind = 'custom_field_changed' and data->>'field' = %(key)s and not is_internal;
