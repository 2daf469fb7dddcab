-- name: list_teams
select id, name, created_at from teams order by lower(name), id;

-- name: get_team
select id, name, created_at from teams where id = %(team_id)s;

-- name: get_team_for_update
select id, name, created_at from teams where id = %(team_id)s for update;

-- name: hold_team
-- The team kept from being deleted until the transaction ends (FOR UPDATE waits for it).
select id from teams where id = %(team_id)s for key share;

-- name: lock_rotation
-- One ticket handed out by round robin at a time. NO KEY UPDATE conflicts with itself
-- and with deletion, not with the key-share locks of tickets being routed to the team.
select id from teams where id = %(team_id)s for no key update;

-- name: team_refs
select id, name from teams where id = any(%(ids)s::uuid[]);

-- name: members_of
select m.team_id, u.id, u.name, u.email, u.role, u.is_active, u.is_away
from team_members m join users u on u.id = m.user_id
where m.team_id = any(%(team_ids)s::uuid[])
order by lower(u.name), u.id;

-- name: insert_team
insert into teams (name) values (%(name)s)
returning id, name, created_at;

-- name: rename_team
update teams set name = %(name)s where id = %(team_id)s
returning id, name, created_at;

-- name: delete_team
delete from teams where id = %(team_id)s returning id;

-- name: remove_members
-- Everyone not in the new list leaves; those who stay keep their place in the rotation.
delete from team_members
where team_id = %(team_id)s and user_id <> all(%(user_ids)s::uuid[]);

-- name: add_members
insert into team_members (team_id, user_id)
select %(team_id)s, unnest(%(user_ids)s::uuid[])
on conflict do nothing;

-- name: teams_of
select team_id from team_members where user_id = %(user_id)s;

-- name: is_member
select exists (
    select 1 from team_members where team_id = %(team_id)s and user_id = %(user_id)s
);

-- name: next_in_rotation
-- The member to give the next ticket to: present (not away), an active agent or admin,
-- and the one whose last ticket by rotation is oldest (never given one: first; then by
-- id, so the order is total). The caller holds the team's row lock, so two tickets
-- created at once are handed out one after the other.
select u.id from team_members m join users u on u.id = m.user_id
where m.team_id = %(team_id)s
  and u.is_active and not u.is_away and not u.is_system and u.role in ('agent', 'admin')
order by m.last_rotation asc nulls first, u.id
limit 1;

-- name: advance_rotation
with turn as (
    update teams set rotation = rotation + 1 where id = %(team_id)s returning rotation
)
update team_members set last_rotation = (select rotation from turn)
where team_id = %(team_id)s and user_id = %(user_id)s;
