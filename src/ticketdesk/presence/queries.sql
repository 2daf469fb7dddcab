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
delete from ticket_presence
where ctid = any (array(
    select ctid from ticket_presence where expires_at <= now() order by expires_at limit 100
));

-- name: delete_presence
delete from ticket_presence
where ticket_id = %(ticket_id)s and user_id = %(user_id)s
returning expires_at > now() as was_present;

-- name: present_on_ticket
select user_id, state, since from ticket_presence
where ticket_id = %(ticket_id)s and expires_at > now()
order by since, user_id;
