-- Canned replies: text staff insert into a reply, with the ticket's public values filled
-- in, and optionally a status and labels applied with it (a macro). Shared ones have no
-- owner (admins manage them); a personal one belongs to one agent, seen by no one else.
create table canned_replies (
    id uuid primary key default uuidv7(),
    owner_id uuid references users on delete cascade,
    title text not null,
    body text not null,
    set_status text check (set_status in ('open', 'in_progress', 'waiting', 'resolved', 'closed')),
    add_labels text[] not null default '{}',
    created_by uuid references users on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
-- A title is unique among the shared replies, and among each agent's own.
create unique index canned_replies_title_key
    on canned_replies (coalesce(owner_id, '00000000-0000-0000-0000-000000000000'), lower(title));

-- Saved triage views: filters and a sort, in the list API's vocabulary. Every view has an
-- owner; a shared one is listed for all staff.
create table saved_views (
    id uuid primary key default uuidv7(),
    owner_id uuid not null references users on delete cascade,
    shared boolean not null default false,
    name text not null,
    filters jsonb not null default '{}',
    sort text not null default '-created',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create unique index saved_views_name_key on saved_views (owner_id, lower(name));
create index saved_views_shared_idx on saved_views (lower(name)) where shared;

-- Which transaction wrote each ticket event, so a kept count can tell whether a change
-- committed after it was taken, whatever the order of the events' ids: a transaction
-- still running when a count was taken has an id at least that count's horizon (the
-- oldest transaction then running). Events written before this migration have none
-- (they were all committed); no rewrite of the table.
alter table ticket_events add column xact xid8;
alter table ticket_events alter column xact set default pg_current_xact_id();
create index ticket_events_xact_idx on ticket_events (xact) where xact is not null;

-- Each view's open count, with the horizon of the snapshot it was counted in: it is
-- taken again once a ticket event from a transaction at or past that horizon exists. A
-- view whose filters name the viewer (assignee "me") is counted per viewer; otherwise
-- viewer_id is the nil UUID.
create unlogged table saved_view_counts (
    view_id uuid not null references saved_views on delete cascade,
    viewer_id uuid not null,
    open_count integer not null,
    horizon xid8 not null,
    counted_at timestamptz not null default now(),
    primary key (view_id, viewer_id)
);
