-- name: user_by_email
select id, email, name, role, password_hash, is_active, is_system,
       email_verified_at is not null as email_verified
from users where lower(email) = lower(%(email)s);

-- name: password_hash
select password_hash from users where id = %(user_id)s;

-- name: record_attempt
insert into login_failures (email, client_ip, device)
values (%(email)s, %(client_ip)s, %(device)s)
returning id;

-- name: recent_failures
-- Failures from a trusted device count against that device only.
select
    count(*) filter (where device is null
                     and lower(email) = lower(%(email)s) and client_ip = %(client_ip)s)
        as by_pair,
    count(*) filter (where device is null and client_ip = %(client_ip)s) as by_ip,
    count(*) filter (where device is null and lower(email) = lower(%(email)s)) as by_email,
    count(*) filter (where device = %(device)s) as by_device
from login_failures
where failed_at > now() - make_interval(secs => %(window_seconds)s)
  and (lower(email) = lower(%(email)s) or client_ip = %(client_ip)s
       or device = %(device)s);

-- name: forget_failures
delete from login_failures
where (device is null and lower(email) = lower(%(email)s) and client_ip = %(client_ip)s)
   or device = %(device)s
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
select u.id, u.email, u.name, u.role, t.id as token_id, t.scope, t.expires_at,
       t.last_used_at is null or t.last_used_at < now() - interval '1 minute' as stale
from api_tokens t join users u on u.id = t.user_id
where t.token_hash = %(token_hash)s and t.revoked_at is null
  and (t.expires_at is null or t.expires_at > now()) and u.is_active;

-- name: touch_token
-- On the request's connection once its transaction has ended (a connection of its own
-- would be a second one held at once, and requests holding every connection of the pool
-- would wait for each other), so that a failed request counts too; a request with the
-- same token recording it at that moment is skipped rather than waited for.
update api_tokens set last_used_at = now()
where id = (
  select id from api_tokens
  where id = %(token_id)s
    and (last_used_at is null or last_used_at < now() - interval '1 minute')
  for update skip locked
);

-- name: lock_live_token
-- Taken before a token makes another: a revocation of it under way finishes first (and
-- this finds it revoked), or waits until the new token is committed and then sees it.
select id from api_tokens
where id = %(token_id)s and revoked_at is null and (expires_at is null or expires_at > now())
for share;

-- name: create_token
insert into api_tokens (user_id, name, token_hash, prefix, scope, expires_at, parent_id)
values (
    %(user_id)s, %(name)s, %(token_hash)s, %(prefix)s, %(scope)s, %(expires_at)s, %(parent_id)s
)
returning id, name, prefix, scope, expires_at, parent_id, created_at, last_used_at;

-- name: list_tokens
-- Expired tokens are listed (marked by their expires_at) until they are revoked.
select id, name, prefix, scope, expires_at, parent_id, created_at, last_used_at
from api_tokens
where user_id = %(user_id)s and revoked_at is null
order by created_at desc, id desc;

-- name: revoke_token
update api_tokens set revoked_at = now()
where id = %(token_id)s and user_id = %(user_id)s and revoked_at is null
returning id;

-- name: revoke_children
-- One generation at a time, each in a statement of its own: a token made with one of
-- these while the previous statement waited for its lock is seen by the next.
update api_tokens set revoked_at = now()
where parent_id = any(%(parent_ids)s::uuid[]) and revoked_at is null
returning id;

-- name: record_link_request
insert into link_requests (email, client_ip) values (%(email)s, %(client_ip)s)
returning id;

-- name: recent_link_requests
select
    count(*) filter (where lower(email) = lower(%(email)s)) as by_email,
    count(*) filter (where client_ip = %(client_ip)s) as by_ip
from link_requests
where requested_at > now() - make_interval(secs => %(window_seconds)s)
  and (lower(email) = lower(%(email)s) or client_ip = %(client_ip)s);

-- name: forget_old_link_requests
delete from link_requests where requested_at < now() - interval '1 day';

-- name: link_recipient_for_request
select u.id, u.password_hash is null as invitation_pending,
       u.email_verified_at is not null as email_verified
from link_requests r join users u on lower(u.email) = lower(r.email)
where r.id = %(request_id)s and u.is_active and not u.is_system;

-- name: link_recipient
select id, password_hash is null as invitation_pending,
       email_verified_at is not null as email_verified
from users
where id = %(user_id)s and is_active and not is_system
for update;

-- name: drop_links
-- A person's links of a purpose (all, without one), and any spent or expired: a new link
-- replaces the ones sent before it, so each person has at most one of each kind.
delete from account_links
where user_id = %(user_id)s
  and (%(purpose)s::text is null or purpose = %(purpose)s
       or used_at is not null or expires_at < now());

-- name: create_link
insert into account_links (id, user_id, purpose, token_hash, expires_at)
values (
    %(id)s, %(user_id)s, %(purpose)s, %(token_hash)s,
    now() + make_interval(secs => %(ttl_seconds)s)
);

-- name: use_link
update account_links set used_at = now()
where token_hash = %(token_hash)s and purpose = %(purpose)s
  and used_at is null and expires_at > now()
  and user_id in (select id from users where is_active and not is_system)
returning user_id;

-- name: link_to_send
select l.id, l.purpose, u.email, u.name
from account_links l join users u on u.id = l.user_id
where l.id = %(link_id)s and l.used_at is null and l.expires_at > now()
  and u.is_active and not u.is_system;

-- name: set_password
-- Following a mailed link proves the address too.
update users set
    password_hash = %(password_hash)s,
    email_verified_at = case when %(proves_address)s
                             then coalesce(email_verified_at, now())
                             else email_verified_at end,
    updated_at = now()
where id = %(user_id)s;

-- name: set_first_password
-- Accepting an invitation: only an account without a password takes one, and following
-- the mailed link proves the address.
update users set
    password_hash = %(password_hash)s,
    email_verified_at = coalesce(email_verified_at, now()),
    updated_at = now()
where id = %(user_id)s and password_hash is null
returning id, email, name, role;

-- name: mark_verified
update users set email_verified_at = coalesce(email_verified_at, now()), updated_at = now()
where id = %(user_id)s;

-- name: revoke_tokens
update api_tokens set revoked_at = now()
where user_id = %(user_id)s and revoked_at is null
returning id;

-- name: claim_signup_notice
-- The account, if its owner was not told of a sign-up with their address lately.
update users set signup_notice_at = now()
where id = %(user_id)s
  and (signup_notice_at is null
       or signup_notice_at < now() - make_interval(secs => %(interval_seconds)s))
returning id;

-- name: notice_recipient
select email, name from users where id = %(user_id)s and is_active and not is_system;
