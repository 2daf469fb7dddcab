-- Single-use links mailed to people (password resets, invitations, address checks),
-- the requests for them, and whether an account's address has been confirmed.

-- Accounts that exist already were made by an admin, the command line or sign-up
-- before addresses were checked: they count as confirmed.
alter table users add column email_verified_at timestamptz;
update users set email_verified_at = created_at;

create table account_links (
    id uuid primary key,
    user_id uuid not null references users on delete cascade,
    purpose text not null check (purpose in ('reset', 'invite', 'verify')),
    -- SHA-256 of the secret in the link; the secret itself is never stored.
    token_hash bytea not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at timestamptz
);
create unique index account_links_token_hash_key on account_links (token_hash);
create index account_links_user_idx on account_links (user_id, purpose);

-- Requests for a mailed link by address, counted whether or not the address has an
-- account, so the limit itself tells nobody which addresses do.
create table link_requests (
    id bigint generated always as identity primary key,
    email text not null,
    client_ip text not null,
    requested_at timestamptz not null default now()
);
create index link_requests_email_idx on link_requests (lower(email), requested_at);
create index link_requests_ip_idx on link_requests (client_ip, requested_at);
create index link_requests_time_idx on link_requests (requested_at);
