-- name: time_zone
select coalesce((select time_zone from report_settings), 'UTC');

-- name: change_facts
-- What a change to a ticket counts as: the ticket as it is now (in the changing
-- transaction), its SLA clocks, what it counts in so far, who acted, and today.
select t.status, t.type, t.priority, t.tags, t.team_id, t.assigned_to_user_id,
       t.merged_into_id, t.created_at,
       s.calendar, s.first_response_minutes, s.resolution_minutes,
       s.first_response_due_at, s.resolution_due_at,
       s.first_response_breached_at, s.resolution_breached_at,
       r.created_xact = pg_current_xact_id() as created_now,
       r.created_day, coalesce(r.created_buckets, '[]') as created_buckets,
       coalesce(r.backlog_buckets, '[]') as backlog_buckets,
       coalesce(r.first_responded, false) as first_responded,
       coalesce(r.first_response_decided, false) as first_response_decided,
       coalesce(r.resolution_decided, false) as resolution_decided,
       r.rating, r.rating_day, coalesce(r.rating_buckets, '[]') as rating_buckets,
       (select u.role in ('agent', 'admin') from users u where u.id = %(actor_id)s)
           is true as actor_is_staff,
       now() as now,
       (now() at time zone coalesce((select time_zone from report_settings), 'UTC'))::date
           as today
from tickets t
left join ticket_slas s on s.ticket_id = t.id
left join report_tickets r on r.ticket_id = t.id
where t.id = %(ticket_id)s;

-- name: save_ticket
insert into report_tickets (
    ticket_id, created_xact, created_day, created_buckets, backlog_buckets, first_responded,
    first_response_decided, resolution_decided, rating, rating_day, rating_buckets)
values (
    %(ticket_id)s, case when %(created_now)s then pg_current_xact_id() end, %(created_day)s,
    %(created_buckets)s, %(backlog_buckets)s, %(first_responded)s,
    %(first_response_decided)s, %(resolution_decided)s, %(rating)s, %(rating_day)s,
    %(rating_buckets)s)
on conflict (ticket_id) do update set
    created_buckets = excluded.created_buckets, backlog_buckets = excluded.backlog_buckets,
    first_responded = excluded.first_responded,
    first_response_decided = excluded.first_response_decided,
    resolution_decided = excluded.resolution_decided, rating = excluded.rating,
    rating_day = excluded.rating_day, rating_buckets = excluded.rating_buckets;

-- name: add_day_changes
insert into report_day_changes (
    dimension, day, value, created, resolved, backlog_delta, first_response_met,
    first_response_missed, resolution_met, resolution_missed, csat_good, csat_bad)
select * from unnest(
    %(dimension)s::text[], %(day)s::date[], %(value)s::text[], %(created)s::int[],
    %(resolved)s::int[], %(backlog_delta)s::int[], %(first_response_met)s::int[],
    %(first_response_missed)s::int[], %(resolution_met)s::int[],
    %(resolution_missed)s::int[], %(csat_good)s::int[], %(csat_bad)s::int[]);

-- name: add_duration_changes
insert into report_duration_changes (dimension, metric, day, value, bucket, count)
select * from unnest(
    %(dimension)s::text[], %(metric)s::text[], %(day)s::date[], %(value)s::text[],
    %(bucket)s::smallint[], %(count)s::int[]);

-- name: fold_day_changes
-- The changes' rows into the days, summed, in key order: two folds at once wait for each
-- other rather than deadlock.
with moved as (
    delete from report_day_changes returning *
), summed as (
    select dimension, day, value, sum(created)::int as created, sum(resolved)::int as resolved,
           sum(backlog_delta)::int as backlog_delta,
           sum(first_response_met)::int as first_response_met,
           sum(first_response_missed)::int as first_response_missed,
           sum(resolution_met)::int as resolution_met,
           sum(resolution_missed)::int as resolution_missed,
           sum(csat_good)::int as csat_good, sum(csat_bad)::int as csat_bad
    from moved
    group by dimension, day, value
    order by dimension, day, value
)
insert into report_days (
    dimension, day, value, created, resolved, backlog_delta, first_response_met,
    first_response_missed, resolution_met, resolution_missed, csat_good, csat_bad)
select * from summed
on conflict (dimension, day, value) do update set
    created = report_days.created + excluded.created,
    resolved = report_days.resolved + excluded.resolved,
    backlog_delta = report_days.backlog_delta + excluded.backlog_delta,
    first_response_met = report_days.first_response_met + excluded.first_response_met,
    first_response_missed = report_days.first_response_missed + excluded.first_response_missed,
    resolution_met = report_days.resolution_met + excluded.resolution_met,
    resolution_missed = report_days.resolution_missed + excluded.resolution_missed,
    csat_good = report_days.csat_good + excluded.csat_good,
    csat_bad = report_days.csat_bad + excluded.csat_bad;

-- name: fold_duration_changes
-- The changes' durations into the histograms of their days, weeks and months, in key
-- order; returns the histograms that changed, whose percentiles follow
-- (summarize_durations).
with moved as (
    delete from report_duration_changes returning *
), cells as (
    select m.dimension, m.metric, p.period, p.start, m.value, m.bucket, sum(m.count)::int as count
    from moved m
    cross join lateral (
        values ('day', m.day), ('week', date_trunc('week', m.day)::date),
               ('month', date_trunc('month', m.day)::date)
    ) p(period, start)
    group by m.dimension, m.metric, p.period, p.start, m.value, m.bucket
), added as (
    select dimension, metric, period, start, value, array_agg(bucket order by bucket) as buckets,
           array_agg(count order by bucket) as counts, sum(count)::int as count
    from cells
    group by dimension, metric, period, start, value
    order by dimension, metric, period, start, value
)
insert into report_durations as d (
    dimension, metric, period, start, value, buckets, counts, count, median, p90)
select dimension, metric, period, start, value, buckets, counts, count, 0, 0 from added
on conflict (dimension, metric, period, start, value) do update set
    (buckets, counts) = (
        select array_agg(bucket order by bucket), array_agg(count order by bucket)
        from (
            select bucket, sum(count)::int as count
            from unnest(d.buckets || excluded.buckets, d.counts || excluded.counts)
                u(bucket, count)
            group by bucket
        ) summed),
    count = d.count + excluded.count
returning dimension, metric, period, start, value;

-- name: durations_by_key
select d.dimension, d.metric, d.period, d.start, d.value, d.buckets, d.counts
from report_durations d
join unnest(
    %(dimension)s::text[], %(metric)s::text[], %(period)s::text[], %(start)s::date[],
    %(value)s::text[]
) k(dimension, metric, period, start, value)
    on (d.dimension, d.metric, d.period, d.start, d.value)
        = (k.dimension, k.metric, k.period, k.start, k.value);

-- name: summarize_durations
update report_durations d set median = s.median, p90 = s.p90
from unnest(
    %(dimension)s::text[], %(metric)s::text[], %(period)s::text[], %(start)s::date[],
    %(value)s::text[], %(median)s::smallint[], %(p90)s::smallint[]
) s(dimension, metric, period, start, value, median, p90)
where (d.dimension, d.metric, d.period, d.start, d.value)
    = (s.dimension, s.metric, s.period, s.start, s.value);

-- name: days
select day, value, created, resolved, backlog_delta, first_response_met,
       first_response_missed, resolution_met, resolution_missed, csat_good, csat_bad
from report_days
where dimension = %(dimension)s and day between %(from)s and %(to)s;

-- name: backlog_before
-- The backlog of each value at the start of the range.
select value, sum(backlog_delta)::int as open
from report_days
where dimension = %(dimension)s and day < %(from)s
group by value;

-- name: duration_summaries
-- The count, median and 90th percentile of each value in each of the periods.
select d.period, d.start, d.value, d.count, d.median, d.p90
from report_durations d
join unnest(%(periods)s::text[], %(starts)s::date[]) p(period, start)
    on d.period = p.period and d.start = p.start
where d.dimension = %(dimension)s and d.metric = %(metric)s;

-- name: duration_histograms
-- The histogram of each value in each of the periods.
select d.dimension, d.metric, d.period, d.start, d.value, d.buckets, d.counts
from report_durations d
join unnest(%(periods)s::text[], %(starts)s::date[]) p(period, start)
    on d.period = p.period and d.start = p.start
where d.dimension = %(dimension)s and d.metric = %(metric)s;

-- name: team_names
select id::text as value, name from teams where id::text = any(%(values)s);

-- name: user_names
select id::text as value, name from users where id::text = any(%(values)s);

-- name: lock_rollups
-- In the order changes (lock_for_change) and folds take them, so a rebuild waits for
-- them rather than deadlocks.
lock table report_day_changes, report_duration_changes, report_tickets, report_days,
    report_durations, report_settings in exclusive mode;

-- name: lock_for_change
-- What a change writes, taken up front and in lock_rollups' order: a transaction whose
-- first change writes one table and a later change another would otherwise deadlock
-- with a rebuild that locked them in between.
lock table report_day_changes, report_duration_changes, report_tickets in row exclusive mode;

-- name: copy_duration_changes
copy report_duration_changes (dimension, metric, day, value, bucket, count) from stdin;

-- name: copy_ticket_states
copy report_tickets (
    ticket_id, created_day, created_buckets, backlog_buckets, first_responded,
    first_response_decided, resolution_decided, rating, rating_day, rating_buckets)
from stdin;

-- name: clear_rollups
truncate report_days, report_durations, report_day_changes, report_duration_changes,
    report_tickets;

-- name: release_changes
-- After a rebuild's fold: the space its rows took, at once (it holds the tables' lock).
truncate report_day_changes, report_duration_changes;

-- name: set_time_zone
insert into report_settings (time_zone) values (%(time_zone)s)
on conflict (only_row) do update set time_zone = excluded.time_zone;

-- name: rebuild_source
-- Every ticket as it is now, with what the rollups read of its history: its first public
-- staff reply, its clocks, and its latest rating.
select t.id, t.status, t.type, t.priority, t.tags, t.team_id, t.assigned_to_user_id,
       t.merged_into_id, t.created_at, coalesce(t.resolved_at, t.closed_at) as resolved_at,
       s.calendar, s.first_response_minutes, s.resolution_minutes,
       s.first_response_breached_at, s.resolution_breached_at,
       f.replied_at, g.rating, g.rated_at
from tickets t
left join ticket_slas s on s.ticket_id = t.id
left join (
    select c.ticket_id, min(c.created_at) as replied_at
    from comments c join users u on u.id = c.author_id
    where not c.is_internal and u.role in ('agent', 'admin')
    group by c.ticket_id
) f on f.ticket_id = t.id
left join (
    select distinct on (e.ticket_id) e.ticket_id, e.data ->> 'rating' as rating,
           e.created_at as rated_at
    from ticket_events e where e.kind = 'rated'
    order by e.ticket_id, e.created_at desc, e.id desc
) g on g.ticket_id = t.id;
