-- Staff on a ticket page ("viewing", "replying"), when no Redis keeps it (redis_url unset
-- or away). Unlogged: rows live 45 seconds unless renewed, so they are not worth the
-- write-ahead log, and a crash that empties the table loses nothing the next renewal
-- does not bring back.
create unlogged table ticket_presence (
    ticket_id uuid not null references tickets on delete cascade,
    user_id uuid not null references users on delete cascade,
    state text not null check (state in ('viewing', 'replying')),
    -- When the person came to the ticket, or last changed state on it.
    since timestamptz not null default now(),
    expires_at timestamptz not null,
    primary key (ticket_id, user_id)
);
-- Pruning the expired rows of every ticket, a few at a time.
create index ticket_presence_expires_at on ticket_presence (expires_at);
-- Deleting a user or ticket looks up their rows.
create index ticket_presence_user_id on ticket_presence (user_id);
