-- Exports of tickets: what a member of staff asked for, and how far the background job
-- that writes the file has come. The file is an object in the attachment store under
-- exports/<id>; the row and the object go together when the export expires or is deleted.
create table exports (
    id uuid primary key default uuidv7(),
    requested_by uuid not null references users on delete cascade,
    format text not null check (format in ('csv', 'json')),
    filters jsonb not null default '{}',
    include_comments boolean not null default false,
    include_internal_notes boolean not null default false,
    status text not null default 'queued' check (status in ('queued', 'running', 'done', 'failed')),
    rows_done bigint not null default 0,
    rows_total bigint,
    size_bytes bigint,
    error text,
    created_at timestamptz not null default now(),
    started_at timestamptz,
    finished_at timestamptz,
    expires_at timestamptz,
    check (include_comments or not include_internal_notes)
);
create index exports_requested_by_idx on exports (requested_by, created_at desc);
create index exports_created_idx on exports (created_at desc);
create index exports_expires_idx on exports (expires_at) where expires_at is not null;
