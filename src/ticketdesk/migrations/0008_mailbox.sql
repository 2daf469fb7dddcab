-- Mail that arrived for ticketdesk (replies, new requests), one row a message, so that
-- each is acted on once however many workers read the mailbox or however often an MTA
-- delivers it, and so that one that failed is kept for admins instead of being lost.
create table inbound_messages (
    id bigint generated always as identity primary key,
    -- "message-id:<sha256 hex>" of the Message-ID, or "raw:<sha256 hex>" of the message's
    -- bytes when it has none (or headers that cannot be recorded): short whatever the
    -- Message-ID holds, so the unique index always takes it.
    message_key text not null,
    constraint inbound_messages_message_key_key unique (message_key),
    -- The Message-ID as admins read it, to find the message in the mailbox.
    message_id text not null default '',
    source text not null check (source in ('imap', 'pipe')),
    sender text not null default '',
    subject text not null default '',
    -- posted: a comment or ticket was made; ignored: an auto-reply or bounce;
    -- refused: against the rules (a stranger, a forged address); failed: an error that
    -- an admin may retry once it is fixed; dismissed: a failed one an admin let go.
    status text not null check (status in ('posted', 'ignored', 'refused', 'failed', 'dismissed')),
    reason text,
    ticket_id uuid references tickets on delete set null,
    -- The message as it arrived, kept while it failed, for retrying.
    raw bytea,
    attempts integer not null default 1,
    received_at timestamptz not null default now(),
    processed_at timestamptz not null default now(),
    check (status <> 'failed' or raw is not null)
);
-- The admin list: one status, newest first.
create index inbound_messages_status_id on inbound_messages (status, id desc);
