-- name: user_by_email
select id, email, name, role, password_hash, is_active, is_system
from users where lower(email) = lower(%(email)s);

-- name: record_attempt
insert into login_failures (email, client_ip) values (%(email)s, %(client_ip)s)
returning id;

-- name: recent_failures
select
    count(*) filter (where lower(email) = lower(%(email)s) and client_ip = %(client_ip)s)
        as by_pair,
    count(*) filter (where client_ip = %(client_ip)s) as by_ip,
    count(*) filter (where lower(email) = lower(%(email)s)) as by_email
from login_failures
where failed_at > now() - make_interval(secs => %(window_seconds)s)
  and (lower(email) = lower(%(email)s) or client_ip = %(client_ip)s);

-- name: forget_failures
delete from login_failures
where (lower(email) = lower(%(email)s) and client_ip = %(client_ip)s)
   or id = %(attempt_id)s
   or failed_at < now() - interval '1 day';

-- name: create_session
insert into sessions (token_hash, user_id, csrf_token, expires_at)
values (%(token_hash)s, %(user_id)s, %(csrf_token)s, now() + make_interval(secs => %(ttl_seconds)s));

-- name: actor_by_session
select u.id, u.email, u.name, u.role, s.id as session_id, s.csrf_token
from sessions s join users u on u.id = s.user_id
where s.token_hash = %(token_hash)s and s.expires_at > now() and u.is_active;

-- name: delete_session
delete from sessions where id = %(session_id)s;

-- name: actor_by_token
select u.id, u.email, u.name, u.role, t.id as token_id,
       t.last_used_at is null or t.last_used_at < now() - interval '1 minute' as stale
from api_tokens t join users u on u.id = t.user_id
where t.token_hash = %(token_hash)s and t.revoked_at is null and u.is_active;

-- name: touch_token
update api_tokens set last_used_at = now()
where id = %(token_id)s
  and (last_used_at is null or last_used_at < now() - interval '1 minute');

-- name: create_token
insert into api_tokens (user_id, name, token_hash, prefix)
values (%(user_id)s, %(name)s, %(token_hash)s, %(prefix)s)
returning id, name, prefix, created_at, last_used_at;

-- name: list_tokens
select id, name, prefix, created_at, last_used_at
from api_tokens
where user_id = %(user_id)s and revoked_at is null
order by created_at desc, id desc;

-- name: revoke_token
update api_tokens set revoked_at = now()
where id = %(token_id)s and user_id = %(user_id)s and revoked_at is null;
