-- name: insert_export
insert into exports (requested_by, format, filters, include_comments, include_internal_notes)
values (%(requested_by)s, %(format)s, %(filters)s, %(include_comments)s, %(include_internal_notes)s)
returning id;

-- name: get_export
select e.id, e.format, e.filters, e.include_comments, e.include_internal_notes, e.status,
    e.rows_done, e.rows_total, e.size_bytes, e.error, e.created_at, e.started_at,
    e.finished_at, e.expires_at, u.id as user_id, u.name as user_name, u.role as user_role,
    u.email as user_email
from exports e join users u on u.id = e.requested_by
where e.id = %(export_id)s;

-- name: list_exports
-- The newest first: everyone's for an admin (viewer_id null), else the viewer's own.
select e.id, e.format, e.filters, e.include_comments, e.include_internal_notes, e.status,
    e.rows_done, e.rows_total, e.size_bytes, e.error, e.created_at, e.started_at,
    e.finished_at, e.expires_at, u.id as user_id, u.name as user_name, u.role as user_role,
    u.email as user_email
from exports e join users u on u.id = e.requested_by
where %(viewer_id)s::uuid is null or e.requested_by = %(viewer_id)s
order by e.created_at desc, e.id desc
limit %(limit)s;

-- name: delete_export
delete from exports where id = %(export_id)s;

-- name: start_export
-- A job run again after its worker died starts over.
update exports set status = 'running', started_at = now(), rows_done = 0,
    rows_total = %(rows_total)s, error = null
where id = %(export_id)s and status in ('queued', 'running');

-- name: export_progress
update exports set rows_done = %(rows_done)s where id = %(export_id)s and status = 'running';

-- name: finish_export
update exports set status = 'done', rows_done = %(rows_done)s, size_bytes = %(size_bytes)s,
    finished_at = now(), expires_at = now() + %(keep)s
where id = %(export_id)s and status = 'running';

-- name: fail_export
update exports set status = 'failed', error = %(error)s, finished_at = now(),
    expires_at = now() + %(keep)s
where id = %(export_id)s and status in ('queued', 'running');

-- name: expired_exports
-- Those past their time, oldest first, each once: a sweep running alongside skips them.
select id from exports where expires_at < now()
order by expires_at
limit %(limit)s
for update skip locked;

-- name: known_exports
select id from exports where id = any(%(ids)s::uuid[]);

-- name: delete_exports
delete from exports where id = any(%(ids)s::uuid[]);

-- name: export_job
select format, filters, include_comments, include_internal_notes, requested_by
from exports where id = %(export_id)s;

-- name: requester
select id, email, name, role from users where id = %(user_id)s and is_active;

-- name: ticket_batch
-- A batch of the tickets to export, in order of number (the unique index), after the last
-- one written and up to the newest when the export started. {where}: the ticket list's
-- filters, as the requester would list them.
select t.id, t.number, t.title, t.description, t.status, t.type, t.priority, t.tags,
    t.created_at, t.updated_at, t.resolved_at, t.closed_at,
    s.email as submitter_email, s.name as submitter_name,
    a.email as assignee_email, a.name as assignee_name,
    tm.name as team
from (
    select id, number, title, description, status, type, priority, tags, created_at,
        updated_at, resolved_at, closed_at, user_id, assigned_to_user_id, team_id
    from tickets
    where number > %(after_number)s and number <= %(last_number)s and {where}
    order by number
    limit %(batch_size)s
) t
join users s on s.id = t.user_id
left join users a on a.id = t.assigned_to_user_id
left join teams tm on tm.id = t.team_id
order by t.number;

-- name: export_scope
-- How many tickets an export will write, and the newest of them: tickets opened while
-- it runs are not in it.
select count(*) as total, coalesce(max(number), 0) as last_number from tickets where {where};

-- name: batch_comments
-- The comments of a batch's tickets, oldest first; internal notes only when asked.
select c.ticket_id, c.created_at, c.is_internal, c.body,
    coalesce(u.email, '') as author_email, u.name as author_name
from comments c join users u on u.id = c.author_id
where c.ticket_id = any(%(ticket_ids)s::uuid[]) and (%(notes)s or not c.is_internal)
order by c.ticket_id, c.created_at, c.id;
