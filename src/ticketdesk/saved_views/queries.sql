-- name: list_saved_views
-- The shared views and the caller's own, by name.
select id, name, shared, owner_id, filters, sort, created_at, updated_at
from saved_views
where shared or owner_id = %(viewer_id)s
order by lower(name), id;

-- name: get_saved_view
select id, name, shared, owner_id, filters, sort, created_at, updated_at
from saved_views
where id = %(view_id)s and (shared or owner_id = %(viewer_id)s);

-- name: insert_saved_view
insert into saved_views (owner_id, shared, name, filters, sort)
values (%(owner_id)s, %(shared)s, %(name)s, %(filters)s, %(sort)s)
returning id, name, shared, owner_id, filters, sort, created_at, updated_at;

-- name: update_saved_view
update saved_views set
    name = %(name)s, shared = %(shared)s, filters = %(filters)s, sort = %(sort)s,
    updated_at = now()
where id = %(view_id)s
returning id, name, shared, owner_id, filters, sort, created_at, updated_at;

-- name: delete_saved_view
delete from saved_views where id = %(view_id)s;

-- name: newest_event
-- The newest change to any ticket: a count taken since is still true.
select id, created_at from ticket_events order by id desc limit 1;

-- name: cached_counts
select view_id, viewer_id, open_count, events_upto, counted_at
from saved_view_counts
where view_id = any(%(view_ids)s::uuid[]) and viewer_id = any(%(viewer_ids)s::uuid[]);

-- name: store_count
insert into saved_view_counts (view_id, viewer_id, open_count, events_upto, counted_at)
values (%(view_id)s, %(viewer_id)s, %(open_count)s, %(events_upto)s, now())
on conflict (view_id, viewer_id) do update set
    open_count = excluded.open_count,
    events_upto = excluded.events_upto,
    counted_at = excluded.counted_at
returning view_id, viewer_id, open_count, events_upto, counted_at;
