-- Followers of a ticket and mentions in internal notes (see tickets/followers.py and
-- comments/mentions.py).

-- Who follows a ticket besides its submitter: a person with an account (an agent who
-- follows it, the submitter of a duplicate merged into it, an account copied on the
-- submitter's mail), or an address with no account, copied on the submitter's mail.
-- A submitter who unfollowed their own ticket has a muted row.
create table ticket_followers (
    id uuid primary key default uuidv7(),
    ticket_id uuid not null references tickets on delete cascade,
    user_id uuid references users on delete cascade,
    email text check (email is null or (char_length(email) between 3 and 320 and email = lower(email))),
    -- self: by their own hand; cc: copied on the submitter's mail; merge: carried over
    -- from a duplicate merged into this ticket.
    via text not null check (via in ('self', 'cc', 'merge')),
    muted boolean not null default false,
    created_at timestamptz not null default now(),
    check ((user_id is null) <> (email is null)),
    check (not muted or user_id is not null)
);
-- A ticket's followers, in order (the ticket page, and deleting a ticket).
create index ticket_followers_ticket_idx on ticket_followers (ticket_id, created_at, id);
create unique index ticket_followers_user_key on ticket_followers (ticket_id, user_id)
    where user_id is not null;
create unique index ticket_followers_email_key on ticket_followers (ticket_id, email)
    where email is not null;
-- Deleting a user finds their rows by this.
create index ticket_followers_user_idx on ticket_followers (user_id) where user_id is not null;

-- An agent named in an internal note: their in-app notification, read or not.
create table comment_mentions (
    id uuid primary key default uuidv7(),
    comment_id uuid not null references comments on delete cascade,
    user_id uuid not null references users on delete cascade,
    created_at timestamptz not null default now(),
    read_at timestamptz,
    unique (comment_id, user_id)
);
create index comment_mentions_user_idx on comment_mentions (user_id, id);
create index comment_mentions_unread_idx on comment_mentions (user_id) where read_at is null;

-- Mentions find agents by the part of their address before the @ (``@alice``).
create index users_staff_handle_idx on users (split_part(lower(email), '@', 1))
    where role in ('agent', 'admin');
