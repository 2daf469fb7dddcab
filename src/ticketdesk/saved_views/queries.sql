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
-- Its kept counts go with the old filters.
with forgotten as (delete from saved_view_counts where view_id = %(view_id)s)
update saved_views set
    name = %(name)s, shared = %(shared)s, filters = %(filters)s, sort = %(sort)s,
    updated_at = now()
where id = %(view_id)s
returning id, name, shared, owner_id, filters, sort, created_at, updated_at;

-- name: delete_saved_view
delete from saved_views where id = %(view_id)s;

-- name: change_horizon
-- The newest transaction that wrote a ticket event, and the oldest one running now: all
-- older than ``horizon`` had committed (or rolled back) before what this transaction
-- reads next, so a count taken next has seen them. Transaction ids are the server's, not
-- the database's: one running in another database never writes here, so it does not
-- hold the horizon back (it would only make every load count again while it runs).
select (select max(xact) from ticket_events where xact is not null)::text::bigint as newest,
       coalesce(
           (select min(running)
            from pg_snapshot_xip(pg_current_snapshot()) as running
            where running::xid not in (
                select backend_xid from pg_stat_activity
                where backend_xid is not null
                  and datid <> (select oid from pg_database where datname = current_database()))),
           pg_snapshot_xmax(pg_current_snapshot())
       )::text::bigint as horizon;

-- name: cached_counts
select view_id, viewer_id, open_count, horizon::text::bigint as horizon, counted_at
from saved_view_counts
where view_id = any(%(view_ids)s::uuid[]) and viewer_id = any(%(viewer_ids)s::uuid[]);

-- name: store_count
insert into saved_view_counts (view_id, viewer_id, open_count, horizon, counted_at)
values (%(view_id)s, %(viewer_id)s, %(open_count)s, %(horizon)s::text::xid8, now())
on conflict (view_id, viewer_id) do update set
    open_count = excluded.open_count,
    horizon = excluded.horizon,
    counted_at = excluded.counted_at
returning view_id, viewer_id, open_count, horizon::text::bigint as horizon, counted_at;
