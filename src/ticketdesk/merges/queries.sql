-- Merges of duplicates into main tickets (migration 0021).

-- name: insert_merge
insert into ticket_merges (duplicate_id, main_id, merged_by, comment_ids, attachment_ids,
                           follower_ids, pointer_comment_id, status_before, resolved_at_before,
                           closed_at_before, customer_replied_at_before)
values (%(duplicate_id)s, %(main_id)s, %(merged_by)s, %(comment_ids)s, %(attachment_ids)s,
        %(follower_ids)s, %(pointer_comment_id)s, %(status_before)s, %(resolved_at_before)s,
        %(closed_at_before)s, %(customer_replied_at_before)s)
returning id;

-- The duplicate's merge in force, locked: one undo at a time.
-- name: lock_active_merge
select id, duplicate_id, main_id, merged_at, comment_ids, attachment_ids, follower_ids,
       pointer_comment_id, status_before, resolved_at_before, closed_at_before,
       customer_replied_at_before
from ticket_merges
where duplicate_id = %(duplicate_id)s and undone_at is null
for update;

-- name: mark_undone
update ticket_merges set undone_at = now(), undone_by = %(actor_id)s where id = %(id)s;

-- name: merge_by_id
select m.id, m.merged_at, m.undone_at,
       jsonb_build_object('id', d.id, 'number', d.number, 'title', d.title) as duplicate,
       jsonb_build_object('id', t.id, 'number', t.number, 'title', t.title) as main,
       case when u.id is null then null else jsonb_build_object(
           'id', u.id, 'name', u.name, 'role', u.role, 'email', u.email) end as merged_by,
       cardinality(m.comment_ids) as comments_moved,
       cardinality(m.attachment_ids) as attachments_moved,
       cardinality(m.follower_ids) as followers_added
from ticket_merges m
join tickets d on d.id = m.duplicate_id
join tickets t on t.id = m.main_id
left join users u on u.id = m.merged_by
where m.id = %(id)s;

-- name: active_merge_id
select id from ticket_merges where duplicate_id = %(duplicate_id)s and undone_at is null;

-- The tickets merged into a main ticket (merges in force), oldest merge first.
-- name: duplicates_of
select d.id, d.number, d.title
from ticket_merges m join tickets d on d.id = m.duplicate_id
where m.main_id = %(main_id)s and m.undone_at is null
order by m.merged_at, m.id;
