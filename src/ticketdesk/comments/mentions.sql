-- Agents named in internal notes (migration 0020).

-- name: insert_mentions
insert into comment_mentions (comment_id, user_id)
select %(comment_id)s, u from unnest(%(user_ids)s::uuid[]) as u
on conflict do nothing;

-- name: list_mentions
select m.id, c.ticket_id, t.number as ticket_number, t.title as ticket_title,
       m.comment_id, m.created_at, m.read_at,
       jsonb_build_object('id', u.id, 'name', u.name, 'role', u.role, 'email', u.email) as author
from comment_mentions m
join comments c on c.id = m.comment_id
join tickets t on t.id = c.ticket_id
join users u on u.id = c.author_id
where m.user_id = %(user_id)s and (%(before_id)s::uuid is null or m.id < %(before_id)s)
order by m.id desc
limit %(limit)s;

-- name: count_unread
select count(*) from comment_mentions where user_id = %(user_id)s and read_at is null;

-- name: mark_read
update comment_mentions set read_at = now() where user_id = %(user_id)s and read_at is null;
