-- Mail that arrived, one row a message (migration 0008).

-- Claiming a message: a second worker holding the same one waits here until the first
-- commits, then gets no row and leaves it alone.
-- name: claim_message
insert into inbound_messages (message_key, message_id, source, sender, subject, status)
values (%(message_key)s, %(message_id)s, %(source)s, %(sender)s, %(subject)s, 'posted')
on conflict (message_key) do nothing
returning id;

-- name: message_by_key
select id, message_id, source, sender, subject, status, reason, ticket_id, attempts, received_at,
       processed_at
from inbound_messages where message_key = %(message_key)s;

-- name: get_message
select id, message_id, source, sender, subject, status, reason, ticket_id, attempts, received_at,
       processed_at
from inbound_messages where id = %(id)s;

-- name: lock_failed_message
select raw from inbound_messages where id = %(id)s and status = 'failed' for update;

-- name: message_status
select status from inbound_messages where id = %(id)s;

-- What became of a message; a failed one keeps its bytes, any other lets them go.
-- name: settle_message
update inbound_messages
set status = %(status)s, reason = %(reason)s, ticket_id = %(ticket_id)s,
    raw = case when %(status)s = 'failed' then %(raw)s::bytea end,
    processed_at = now()
where id = %(id)s;

-- name: count_attempt
update inbound_messages set attempts = attempts + 1 where id = %(id)s;

-- name: dismiss_message
update inbound_messages set status = 'dismissed', raw = null, processed_at = now()
where id = %(id)s;

-- name: list_messages
select id, message_id, source, sender, subject, status, reason, ticket_id, attempts, received_at,
       processed_at
from inbound_messages
where status = %(status)s and (%(before_id)s::bigint is null or id < %(before_id)s)
order by id desc
limit %(limit)s;
