-- Followers of tickets (migration 0020): people and addresses told of a ticket's public
-- side besides its submitter.

-- name: is_following
select exists (
    select 1 from ticket_followers
    where ticket_id = %(ticket_id)s and user_id = %(user_id)s and not muted
);

-- name: is_muted
select exists (
    select 1 from ticket_followers
    where ticket_id = %(ticket_id)s and user_id = %(user_id)s and muted
);

-- name: follow
insert into ticket_followers (ticket_id, user_id, via)
values (%(ticket_id)s, %(user_id)s, %(via)s)
on conflict (ticket_id, user_id) where user_id is not null do update set muted = false
returning id, (xmax = 0) as added;

-- name: mute
insert into ticket_followers (ticket_id, user_id, via, muted)
values (%(ticket_id)s, %(user_id)s, 'self', true)
on conflict (ticket_id, user_id) where user_id is not null do update set muted = true;

-- name: unfollow
delete from ticket_followers where ticket_id = %(ticket_id)s and user_id = %(user_id)s;

-- name: follow_address
insert into ticket_followers (ticket_id, email, via)
values (%(ticket_id)s, %(email)s, %(via)s)
on conflict (ticket_id, email) where email is not null do nothing
returning id;

-- name: list_followers
select f.id, f.via, f.created_at, f.email,
       case when u.id is null then null else jsonb_build_object(
           'id', u.id, 'name', u.name, 'role', u.role, 'email', u.email) end as "user"
from ticket_followers f left join users u on u.id = f.user_id
where f.ticket_id = %(ticket_id)s and not f.muted
order by f.created_at, f.id;

-- The people following a ticket who can be told of it: active, not muted.
-- name: user_follower_ids
select f.user_id from ticket_followers f join users u on u.id = f.user_id
where f.ticket_id = %(ticket_id)s and not f.muted and u.is_active
order by f.user_id;

-- name: address_followers_of
select id, email, ticket_id from ticket_followers
where ticket_id = %(ticket_id)s and email is not null
order by id;

-- name: address_follower
select f.id, f.email, f.ticket_id from ticket_followers f
where f.id = %(id)s and f.email is not null;

-- name: remove_follower
delete from ticket_followers where id = %(id)s and ticket_id = %(ticket_id)s
returning id;

-- name: remove_address_follower
delete from ticket_followers where id = %(id)s and email is not null returning id;

-- name: remove_rows
delete from ticket_followers where id = any(%(ids)s::uuid[]);

-- A merge carries a duplicate's followers, people and addresses, over to its main ticket.
-- name: copy_followers
insert into ticket_followers (ticket_id, user_id, email, via)
select %(to_id)s, user_id, email, 'merge' from ticket_followers
where ticket_id = %(from_id)s and not muted
order by id
on conflict do nothing
returning id;
