-- name: insert_user
insert into users (email, name, role, password_hash, email_verified_at)
values (
    %(email)s, %(name)s, %(role)s, %(password_hash)s,
    case when %(email_verified)s then now() end
)
returning id, email, name, role, is_active, is_away, created_at,
    password_hash is null and not is_system as invitation_pending;

-- name: get_user
select id, email, name, role, is_active, is_away, created_at,
    password_hash is null and not is_system as invitation_pending
from users where id = %(user_id)s;

-- name: list_users
select id, email, name, role, is_active, is_away, created_at,
    password_hash is null and not is_system as invitation_pending
from users
where not is_system
  and (%(role)s::text is null or role = %(role)s)
  and (%(q)s::text is null
       or strpos(lower(email), lower(%(q)s)) > 0 or strpos(lower(name), lower(%(q)s)) > 0)
  and (%(after_email)s::text is null or lower(email) > %(after_email)s)
order by lower(email)
limit %(limit)s;

-- name: update_user
update users set
    role = coalesce(%(role)s, role),
    name = coalesce(%(name)s, name),
    is_active = coalesce(%(is_active)s, is_active),
    is_away = coalesce(%(is_away)s, is_away),
    updated_at = now()
where id = %(user_id)s and not is_system
returning id, email, name, role, is_active, is_away, created_at,
    password_hash is null and not is_system as invitation_pending;

-- name: end_sessions
-- Expired sessions go as well, but only the live ones are counted: nothing purges expired
-- rows, and they are not sessions anyone still had.
with ended as (
    delete from sessions
    where user_id = %(user_id)s
      and (%(except_session_id)s::uuid is null or id <> %(except_session_id)s)
    returning expires_at
)
select count(*) filter (where expires_at > now()) from ended;

-- name: ensure_system_user
insert into users (email, name, role, is_system)
values (%(email)s, %(name)s, 'agent', true)
on conflict ((lower(email))) do update set updated_at = users.updated_at
returning id;

-- name: any_people
select exists (select 1 from users where not is_system) as any;

-- name: user_by_email
select id, email, name, role, is_active, is_away, created_at,
    password_hash is null and not is_system as invitation_pending
from users where lower(email) = lower(%(email)s);

-- name: active_person
select id, email, name, role, is_active, is_away, created_at,
    password_hash is null as invitation_pending
from users where id = %(user_id)s and is_active and not is_system;

-- name: users_by_id
select id, email, name, role, is_active, is_away, created_at,
    password_hash is null and not is_system as invitation_pending
from users where id = any(%(ids)s::uuid[]);

-- name: is_assignable
select exists (
    select 1 from users
    where id = %(user_id)s and role in ('agent', 'admin') and is_active and not is_system
);

-- name: assignable_among
-- Of these ids, the active agents and admins (who may be assigned tickets).
select id from users
where id = any(%(ids)s::uuid[]) and role in ('agent', 'admin') and is_active and not is_system;

-- name: set_away
update users set is_away = %(away)s, updated_at = now()
where id = %(user_id)s and not is_system
returning id, email, name, role, is_active, is_away, created_at,
    password_hash is null and not is_system as invitation_pending;
-- Active staff by the part of their address before the @, or by their whole address
-- (``@alice`` or ``@alice@example.com``), for mentions.
-- name: staff_by_handles
select id, email, name, role, is_active, is_away, created_at,
    password_hash is null and not is_system as invitation_pending
from users
where role in ('agent', 'admin') and is_active and not is_system
  and (split_part(lower(email), '@', 1) = any(%(handles)s::text[])
       or lower(email) = any(%(handles)s::text[]));
