-- Merging a duplicate into a main ticket, and taking it back (see merges/service.py).

-- The ticket a merged duplicate points to; null for every other ticket.
alter table tickets add column merged_into_id uuid references tickets;
create index tickets_merged_into_idx on tickets (merged_into_id) where merged_into_id is not null;

-- One row a merge: what moved, so that an undo within the window moves back exactly
-- that. Undone merges stay, with undone_at.
create table ticket_merges (
    id uuid primary key default uuidv7(),
    duplicate_id uuid not null references tickets on delete cascade,
    main_id uuid not null references tickets on delete cascade,
    merged_by uuid references users on delete set null,
    merged_at timestamptz not null default now(),
    undone_by uuid references users on delete set null,
    undone_at timestamptz,
    comment_ids uuid[] not null default '{}',
    attachment_ids uuid[] not null default '{}',
    -- The follower rows the merge added to the main ticket.
    follower_ids uuid[] not null default '{}',
    -- The public reply on the duplicate that points to the main ticket.
    pointer_comment_id uuid,
    -- The duplicate's status and its stamps before it was closed (and before the pointer
    -- reply answered its customer).
    status_before text not null,
    resolved_at_before timestamptz,
    closed_at_before timestamptz,
    customer_replied_at_before timestamptz,
    check (duplicate_id <> main_id)
);
create unique index ticket_merges_duplicate_key on ticket_merges (duplicate_id)
    where undone_at is null;
-- Every merge of a ticket, undone ones too (deleting a ticket).
create index ticket_merges_duplicate_idx on ticket_merges (duplicate_id);
create index ticket_merges_main_idx on ticket_merges (main_id, merged_at);
