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
