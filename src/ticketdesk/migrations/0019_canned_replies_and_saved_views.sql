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

-- Each view's open count, as of the newest ticket event when it was counted: a count is
-- taken again only once tickets changed since. A view whose filters name the viewer
-- (assignee "me") is counted per viewer; otherwise viewer_id is the nil UUID.
create unlogged table saved_view_counts (
    view_id uuid not null references saved_views on delete cascade,
    viewer_id uuid not null,
    open_count integer not null,
    events_upto uuid,
    counted_at timestamptz not null default now(),
    primary key (view_id, viewer_id)
);
