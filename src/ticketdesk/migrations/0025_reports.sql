-- Reports: daily rollups of the ticket changes, kept up to date from what each change
-- adds (``reports.service.on_change``, then ``fold``) so that a report reads a few
-- thousand rows, never the tickets. Rebuilt from what the tickets hold by ``ticketdesk reports rebuild``.
--
-- A change only adds rows (report_day_changes, report_duration_changes), so that no two
-- changes wait on each other; the next report, or the minutely ``reports.fold`` job,
-- folds them into report_days and report_durations.

-- The zone whose midnights split the days (at most one row; none: UTC). Changing it
-- means rebuilding (``ticketdesk reports rebuild --time-zone``).
create table report_settings (
    only_row boolean primary key default true check (only_row),
    time_zone text not null
);

-- Per day and per value of a dimension ('all' with value '', 'team', 'agent', 'type',
-- 'priority', 'label'; '' is "none"): what happened that day to tickets with that value.
-- backlog_delta: tickets entering the backlog (not resolved or closed) or moving into this
-- value while in it, less those leaving; the backlog at the end of day D is the sum up to D.
create table report_days (
    dimension text not null,
    day date not null,
    value text not null,
    created integer not null default 0,
    resolved integer not null default 0,
    backlog_delta integer not null default 0,
    first_response_met integer not null default 0,
    first_response_missed integer not null default 0,
    resolution_met integer not null default 0,
    resolution_missed integer not null default 0,
    csat_good integer not null default 0,
    csat_bad integer not null default 0,
    primary key (dimension, day, value)
);

-- Durations in business seconds per day, per week (from Monday) and per month, and per
-- value of a dimension: a histogram of log-spaced buckets (``reports.sketch``; ``buckets``
-- ascending, ``counts`` beside them) with its count and the buckets of its median and 90th
-- percentile. A report reads the summaries of its days or weeks, and adds up the
-- histograms of the few whole months, weeks and days that make up its range.
create table report_durations (
    dimension text not null,
    metric text not null check (metric in ('first_response', 'resolution')),
    period text not null check (period in ('day', 'week', 'month')),
    start date not null,
    value text not null,
    buckets smallint[] not null,
    counts integer[] not null,
    count integer not null,
    median smallint not null,
    p90 smallint not null,
    primary key (dimension, metric, period, start, value)
);

-- What changes add to report_days and report_durations, until folded into them.
create table report_day_changes (
    dimension text not null,
    day date not null,
    value text not null,
    created integer not null,
    resolved integer not null,
    backlog_delta integer not null,
    first_response_met integer not null,
    first_response_missed integer not null,
    resolution_met integer not null,
    resolution_missed integer not null,
    csat_good integer not null,
    csat_bad integer not null
);

create table report_duration_changes (
    dimension text not null,
    metric text not null,
    day date not null,
    value text not null,
    bucket smallint not null,
    count integer not null
);

-- What each ticket counts in now, so that the next change moves exactly that: the
-- buckets it adds to the backlog (empty: none), the buckets and day its creation counted
-- in while the creating transaction runs, which SLA targets are decided, and its rating.
create table report_tickets (
    ticket_id uuid primary key references tickets on delete cascade,
    created_xact xid8,
    created_day date not null,
    created_buckets jsonb not null default '[]',
    backlog_buckets jsonb not null default '[]',
    first_responded boolean not null default false,
    first_response_decided boolean not null default false,
    resolution_decided boolean not null default false,
    rating text check (rating in ('good', 'bad')),
    rating_day date,
    rating_buckets jsonb not null default '[]'
);
