-- name: insert_entry
-- The actor's email and name are copied as they are now: the row stays readable after
-- the account changes or goes.
insert into audit_log (
    actor_id, actor_email, actor_name, client_address,
    action, target_type, target_id, before, after
)
select %(actor_id)s::uuid, u.email, u.name, %(client_address)s,
       %(action)s, %(target_type)s, %(target_id)s, %(before)s, %(after)s
from (select) as one
left join users u on u.id = %(actor_id)s::uuid;

-- name: list_entries
-- Newest first. Each filter is off when its parameter is null; the cursor is the last
-- row's (at, id).
select id, at, actor_id, actor_email, actor_name, client_address,
       action, target_type, target_id, before, after
from audit_log
where (%(actor_id)s::uuid is null or actor_id = %(actor_id)s::uuid)
  and (%(action)s::text is null or action like %(action)s::text)
  and (%(target_type)s::text is null or target_type = %(target_type)s::text)
  and (%(target_id)s::text is null or target_id = %(target_id)s::text)
  and (%(since)s::timestamptz is null or at >= %(since)s::timestamptz)
  and (%(until)s::timestamptz is null or at < %(until)s::timestamptz)
  and (%(q)s::text is null or search like %(q)s::text)
  and (%(after_at)s::timestamptz is null
       or (at, id) < (%(after_at)s::timestamptz, %(after_id)s::uuid))
order by at desc, id desc
limit %(limit)s::bigint;

-- name: allow_prune
-- The guard trigger lets this transaction, and only it, delete rows.
select set_config('ticketdesk.audit_prune', 'on', true);

-- name: prune_entries
-- The oldest rows past the retention, a batch at a time.
delete from audit_log
where id in (
    select id from audit_log
    where at < now() - make_interval(days => %(days)s)
    order by at
    limit %(batch)s
);
