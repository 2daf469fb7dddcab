-- Queries that read or return whole tickets list their columns as {ticket_columns}: the
-- fields of the Ticket model, filled in once by the module that runs them (sql.columns).

-- name: ticket_by_id
select {ticket_columns} from tickets where id = %(ticket_id)s;

-- name: ticket_by_number
select {ticket_columns} from tickets where number = %(number)s;

-- name: lock_ticket
select {ticket_columns} from tickets where id = %(ticket_id)s for update;

-- name: insert_ticket
insert into tickets (id, user_id, type, priority, title, description, tags, metadata)
values (%(id)s, %(user_id)s, %(type)s, %(priority)s, %(title)s, %(description)s, %(tags)s,
        %(metadata)s)
returning {ticket_columns};

-- name: insert_imported_tickets
-- Tickets brought over from another system, with their own times and state, in one
-- statement; numbers follow the order given.
insert into tickets (id, user_id, type, priority, status, title, description,
                     assigned_to_user_id, tags, created_at, updated_at, resolved_at, closed_at)
select id, user_id, type, priority, status, title, description, assigned_to_user_id,
       array(select jsonb_array_elements_text(tags)), created_at, updated_at, resolved_at,
       closed_at
from unnest(%(id)s::uuid[], %(user_id)s::uuid[], %(type)s::text[], %(priority)s::text[],
            %(status)s::text[], %(title)s::text[], %(description)s::text[],
            %(assigned_to_user_id)s::uuid[], %(tags)s::jsonb[], %(created_at)s::timestamptz[],
            %(updated_at)s::timestamptz[], %(resolved_at)s::timestamptz[],
            %(closed_at)s::timestamptz[])
    with ordinality as given (id, user_id, type, priority, status, title, description,
                              assigned_to_user_id, tags, created_at, updated_at, resolved_at,
                              closed_at, position)
order by position;

-- name: claim_idempotency_key
insert into idempotency_keys (user_id, key, request_hash, ticket_id)
values (%(user_id)s, %(key)s, %(request_hash)s, %(ticket_id)s);

-- name: idempotency_key
select request_hash, ticket_id from idempotency_keys
where user_id = %(user_id)s and key = %(key)s;

-- name: expire_idempotency_key
delete from idempotency_keys
where user_id = %(user_id)s and key = %(key)s and created_at < now() - interval '24 hours';

-- name: touch_ticket
update tickets set updated_at = now() where id = %(ticket_id)s;

-- name: note_public_reply
-- The submitter's reply marks the ticket as awaiting an answer, keeping the time of their
-- oldest unanswered reply; a reply from staff is that answer.
update tickets
set updated_at = now(),
    customer_replied_at = case when %(from_submitter)s then coalesce(customer_replied_at, now()) end
where id = %(ticket_id)s;

-- name: tickets_tagged_for_update
-- In id order, like bulk actions, so the two cannot deadlock.
select {ticket_columns} from tickets where tags @> array[%(tag)s]::text[]
order by id
for update;

-- name: team_tickets_for_update
-- In id order, like bulk actions, so the two cannot deadlock.
select {ticket_columns} from tickets where team_id = %(team_id)s
order by id
for update;

-- name: claim_escalations
-- Tickets of the priority, neither resolved nor closed, opened more than after_hours ago
-- and with no public reply from staff, marked escalated once each. Only those that
-- became due within the last day: after an upgrade, or when an admin changes the
-- priority or lowers after_hours, tickets long overdue are not all alerted at once (a
-- range on the partial index's created_at, so the query still reads few rows). Rows
-- another transaction holds are skipped, left to the next run; a row it escalated
-- meanwhile no longer matches when locked, so two runs at once escalate a ticket once.
update tickets set escalated_at = now()
where id in (
    select t.id from tickets t
    where t.escalated_at is null and t.status in ('open', 'in_progress', 'waiting')
      and t.priority = %(priority)s
      and t.created_at < now() - make_interval(hours => %(after_hours)s)
      and t.created_at >= now() - make_interval(hours => %(after_hours)s) - interval '1 day'
      and not exists (
          select 1 from comments c join users u on u.id = c.author_id
          where c.ticket_id = t.id and not c.is_internal and u.role in ('agent', 'admin')
      )
    order by t.created_at
    limit %(limit)s
    for update of t skip locked
)
and escalated_at is null and status in ('open', 'in_progress', 'waiting')
returning id;

-- name: resolved_due_for_closing
-- Resolved tickets with neither the resolution nor any public reply in the last
-- ``days``: the clock runs from the later of the two. Oldest first (the partial index's
-- order: an order by id would scan every ticket), locked; rows another
-- transaction holds are skipped, left to the next run, and a row closed meanwhile no
-- longer matches when locked.
select {ticket_columns} from tickets t
where t.status = 'resolved' and t.resolved_at < now() - make_interval(days => %(days)s)
  and not exists (
      select 1 from comments c
      where c.ticket_id = t.id and not c.is_internal
        and c.created_at >= now() - make_interval(days => %(days)s)
  )
order by t.resolved_at
limit %(limit)s
for update of t skip locked;

-- name: set_sla
-- What the ticket's SLA clocks say, as lists read it (tickets.service._apply_sla): not
-- an edit, so neither the version nor updated_at moves.
update tickets
set sla_state = %(state)s, sla_due_at = %(due_at)s, sla_sort_at = %(sort_at)s,
    sla_next_check_at = %(next_check_at)s
where id = %(ticket_id)s
returning {ticket_columns};

-- name: first_staff_reply
-- When staff first replied publicly on the ticket (a reply as claim_escalations counts
-- one), for SLA clocks it gains after it was opened; null: not yet.
select min(c.created_at) from comments c join users u on u.id = c.author_id
where c.ticket_id = %(ticket_id)s and not c.is_internal and u.role in ('agent', 'admin');

-- name: sla_due_for_check
-- Tickets whose SLA clock has something due by now, soonest first: a range on the
-- partial index of running clocks, however many tickets there are. Rows another
-- transaction holds are skipped, left to the next run; a row it moved on meanwhile no
-- longer matches when locked.
select {ticket_columns} from tickets
where sla_next_check_at <= %(now)s
order by sla_next_check_at
limit %(limit)s
for update skip locked;

-- name: search_snippets
-- Where a search matched in each ticket named, from the text its search document was
-- made of (without the title, which a list shows anyway): the description and public
-- comments, plus internal notes for staff. The caller's sentinels are taken out of the
-- text first, so that only the matches carry them.
select id, ts_headline('english', translate(concat_ws(
           E'\n', left(description, 20000), ticket_search_comments(id, false),
           case when %(staff)s then ticket_search_comments(id, true) end
       ), %(sentinels)s, ''), websearch_to_tsquery('english', %(q)s), %(options)s) as headline
from tickets
where id = any(%(ids)s::uuid[]);

-- name: set_merged_into
update tickets set merged_into_id = %(merged_into_id)s where id = %(ticket_id)s;

-- An undone merge puts back the stamps the duplicate had before it was closed, and the
-- customer's reply its pointer reply answered.
-- name: restore_stamps
update tickets
set resolved_at = %(resolved_at)s, closed_at = %(closed_at)s,
    customer_replied_at = %(customer_replied_at)s
where id = %(ticket_id)s
returning {ticket_columns};
