-- Imports of tickets from other systems: the upload an admin maps and applies, and which
-- ticket each imported row became (so that importing the same rows again skips them).

create table imports (
    id uuid primary key default uuidv7(),
    -- Where the rows come from: 'csv' for an uploaded file.
    source text not null check (char_length(source) between 1 and 40),
    created_by uuid not null references users,
    filename text not null default '' check (char_length(filename) <= 255),
    -- The uploaded file as text (UTF-8), kept until it is applied; null for sources
    -- that are not files.
    content text,
    columns text[] not null default '{}',
    row_count integer not null default 0,
    created_at timestamptz not null default now(),
    applied_at timestamptz,
    -- What the applied import wrote: counts, for the summary.
    result jsonb
);
create index imports_created_idx on imports (created_at, id);

create table imported_tickets (
    ticket_id uuid primary key references tickets on delete cascade,
    import_id uuid not null references imports on delete cascade,
    -- The row of the source it came from (1 = the first row after a CSV's header).
    source_row integer not null,
    source text not null,
    -- The ticket's id in the system it came from, when the source gives one.
    external_id text check (char_length(external_id) between 1 and 200)
);
create unique index imported_tickets_external_key on imported_tickets (source, external_id)
    where external_id is not null;
create index imported_tickets_import_idx on imported_tickets (import_id, source_row);
