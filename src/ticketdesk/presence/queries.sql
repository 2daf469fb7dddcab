-- name: previous_state
select state from ticket_presence
where ticket_id = %(ticket_id)s and user_id = %(user_id)s and expires_at > now();

-- name: upsert_presence
insert into ticket_presence (ticket_id, user_id, state, expires_at)
values (%(ticket_id)s, %(user_id)s, %(state)s, now() + make_interval(secs => %(ttl_seconds)s))
on conflict (ticket_id, user_id) do update
set state = excluded.state,
    since = case
        when ticket_presence.state = excluded.state and ticket_presence.expires_at > now()
        then ticket_presence.since
        else now()
    end,
    expires_at = excluded.expires_at;

-- name: prune_expired
-- Rows another transaction holds (a PUT renewing its own expired mark) are left to a
-- later prune: waiting for them would deadlock two PUTs that each prune the other's.
delete from ticket_presence
where (ticket_id, user_id) in (
    select ticket_id, user_id from ticket_presence
    where expires_at <= now()
    order by expires_at
    limit 100
    for update skip locked
)
  and expires_at <= now();

-- name: delete_presence
delete from ticket_presence
where ticket_id = %(ticket_id)s and user_id = %(user_id)s
returning expires_at > now() as was_present;

-- name: present_on_ticket
select user_id, state, since from ticket_presence
where ticket_id = %(ticket_id)s and expires_at > now()
order by since, user_id;
