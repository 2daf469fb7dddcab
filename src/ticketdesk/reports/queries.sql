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
       r.ticket_id is not null as tracked,
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

-- name: add_days
-- Rows in key order, so that two transactions adding to the same days never deadlock.
insert into report_days (
    dimension, day, value, created, resolved, backlog_delta, first_response_met,
    first_response_missed, resolution_met, resolution_missed, csat_good, csat_bad)
select * from unnest(
    %(dimension)s::text[], %(day)s::date[], %(value)s::text[], %(created)s::int[],
    %(resolved)s::int[], %(backlog_delta)s::int[], %(first_response_met)s::int[],
    %(first_response_missed)s::int[], %(resolution_met)s::int[],
    %(resolution_missed)s::int[], %(csat_good)s::int[], %(csat_bad)s::int[])
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

-- name: add_durations
insert into report_durations (dimension, metric, day, value, bucket, count)
select * from unnest(
    %(dimension)s::text[], %(metric)s::text[], %(day)s::date[], %(value)s::text[],
    %(bucket)s::smallint[], %(count)s::int[])
on conflict (dimension, metric, day, value, bucket) do update set
    count = report_durations.count + excluded.count;

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

-- name: durations
-- Per value and period (the whole range with %(whole)s, else the day, or the week clipped
-- to the range with %(weekly)s): how many durations, and the buckets of the median and of
-- the 90th percentile (nearest rank: the first bucket whose running count reaches
-- ceil(q * n)).
with counts as (
    select value, bucket, sum(count) as n,
           case when %(whole)s then %(from)s::date
                when %(weekly)s then greatest(%(from)s::date, date_trunc('week', day)::date)
                else day end as period
    from report_durations
    where dimension = %(dimension)s and metric = %(metric)s and day between %(from)s and %(to)s
    group by period, value, bucket
), running as (
    select period, value, bucket,
           sum(n) over (partition by period, value order by bucket) as seen,
           sum(n) over (partition by period, value) as total
    from counts
)
select period, value, max(total)::int as count,
       min(bucket) filter (where seen >= greatest(1, ceil(0.5 * total))) as median,
       min(bucket) filter (where seen >= greatest(1, ceil(0.9 * total))) as p90
from running
group by period, value;

-- name: team_names
select id::text as value, name from teams where id::text = any(%(values)s);

-- name: user_names
select id::text as value, name from users where id::text = any(%(values)s);

-- name: lock_rollups
lock table report_days, report_durations, report_tickets, report_settings in exclusive mode;

-- name: clear_rollups
truncate report_days, report_durations, report_tickets;

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

-- name: rebuild_durations_table
create temporary table rebuilt_durations (
    dimension text, metric text, day date, value text, bucket smallint
) on commit drop;

-- name: fold_rebuilt_durations
insert into report_durations (dimension, metric, day, value, bucket, count)
select dimension, metric, day, value, bucket, count(*)
from rebuilt_durations
group by dimension, metric, day, value, bucket;
