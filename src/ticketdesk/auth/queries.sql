-- name: user_by_email
select id, email, name, role, password_hash, is_active, is_system
from users where lower(email) = lower(%(email)s);

-- name: recent_failures
select
    count(*) filter (where lower(email) = lower(%(email)s)) as by_email,
    count(*) filter (where client_ip = %(client_ip)s) as by_ip
from login_failures
where failed_at > now() - make_interval(secs => %(window_seconds)s)
  and (lower(email) = lower(%(email)s) or client_ip = %(client_ip)s);

-- name: record_failure
insert into login_failures (email, client_ip) values (%(email)s, %(client_ip)s);

-- name: forget_failures
delete from login_failures
where lower(email) = lower(%(email)s) or failed_at < now() - interval '1 day';

-- name: create_session
insert into sessions (token_hash, user_id, csrf_token, expires_at)
values (%(token_hash)s, %(user_id)s, %(csrf_token)s, now() + make_interval(secs => %(ttl_seconds)s))
returning id;

-- name: actor_by_session
select u.id, u.email, u.name, u.role, s.id as session_id, s.csrf_token
from sessions s join users u on u.id = s.user_id
where s.token_hash = %(token_hash)s and s.expires_at > now() and u.is_active;

-- name: delete_session
delete from sessions where id = %(session_id)s;

-- name: actor_by_token
update api_tokens t
set last_used_at = now()
from users u
where t.token_hash = %(token_hash)s and t.revoked_at is null
  and u.id = t.user_id and u.is_active
returning u.id, u.email, u.name, u.role;

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
where id = %(token_id)s and user_id = %(user_id)s and revoked_at is null
returning id;
