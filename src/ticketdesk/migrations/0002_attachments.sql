-- Files attached to tickets. The bytes live in the object store under storage_key.

create table attachments (
    id uuid primary key default uuidv7(),
    ticket_id uuid not null references tickets on delete cascade,
    uploader_id uuid not null references users,
    filename text not null check (char_length(filename) between 1 and 255),
    media_type text not null,
    size_bytes bigint not null check (size_bytes >= 0),
    sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
    storage_key text not null,
    created_at timestamptz not null default now()
);
create index attachments_ticket_idx on attachments (ticket_id, created_at, id);
create unique index attachments_storage_key_key on attachments (storage_key);
