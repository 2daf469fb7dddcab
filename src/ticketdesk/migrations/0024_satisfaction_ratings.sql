-- Satisfaction ratings (see csat/service.py). A round starts each time a ticket becomes
-- resolved or closed from an open state; its submitter rates it good or bad, with an
-- optional comment, and may change the rating for 7 days after the first one.
create table csat_rounds (
    id uuid primary key default uuidv7(),
    ticket_id uuid not null references tickets on delete cascade,
    user_id uuid not null references users on delete cascade,
    started_at timestamptz not null default now(),
    -- The mailed links carry the id signed with the server's key (nothing secret is
    -- stored); they work once, until the expiry.
    token_expires_at timestamptz not null,
    token_used_at timestamptz,
    rating text check (rating in ('good', 'bad')),
    comment text,
    -- The first rating (the change window counts from it), and the latest change.
    rated_at timestamptz,
    changed_at timestamptz,
    -- When the ticket was reopened after the round started: the round is over (a duplicate
    -- closed by its merge afterwards is not asked about it).
    reopened_at timestamptz,
    check ((rating is null) = (rated_at is null))
);
create index csat_rounds_ticket_idx on csat_rounds (ticket_id, started_at desc, id desc);
