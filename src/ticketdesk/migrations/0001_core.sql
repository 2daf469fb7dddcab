-- Accounts, tickets, comments, labels and the event log.

-- UUIDv7 (RFC 9562): 48-bit Unix milliseconds, version and variant bits, random rest.
-- Time-ordered ids keep the primary-key index append-only.
create function uuidv7() returns uuid
language sql volatile parallel safe as $$
    select encode(
        set_bit(
            set_bit(
                overlay(
                    uuid_send(gen_random_uuid())
                    placing substring(int8send((extract(epoch from clock_timestamp()) * 1000)::bigint) from 3)
                    from 1 for 6
                ),
                52, 1
            ),
            53, 1
        ),
        'hex'
    )::uuid
$$;

create table users (
    id uuid primary key default uuidv7(),
    email text not null,
    name text not null check (char_length(name) between 1 and 100),
    role text not null check (role in ('user', 'agent', 'admin')),
    password_hash text,
    is_active boolean not null default true,
    -- A non-human author, such as the GitHub bridge; cannot sign in.
    is_system boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create unique index users_email_key on users (lower(email));
create index users_role_idx on users (role, name);

create table sessions (
    id uuid primary key default uuidv7(),
    token_hash bytea not null,
    user_id uuid not null references users on delete cascade,
    csrf_token text not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null
);
create unique index sessions_token_hash_key on sessions (token_hash);
create index sessions_user_idx on sessions (user_id);

create table api_tokens (
    id uuid primary key default uuidv7(),
    user_id uuid not null references users on delete cascade,
    name text not null check (char_length(name) between 1 and 100),
    token_hash bytea not null,
    -- The first characters of the secret, so people can tell their tokens apart.
    prefix text not null,
    created_at timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at timestamptz
);
create unique index api_tokens_token_hash_key on api_tokens (token_hash);
create index api_tokens_user_idx on api_tokens (user_id, created_at);

-- Failed sign-ins, kept in PostgreSQL so every replica counts the same attempts.
create table login_failures (
    id bigint generated always as identity primary key,
    email text not null,
    client_ip text not null,
    failed_at timestamptz not null default now()
);
create index login_failures_email_idx on login_failures (lower(email), failed_at);
create index login_failures_ip_idx on login_failures (client_ip, failed_at);

create table labels (
    id uuid primary key default uuidv7(),
    name text not null check (name ~ '^[^\s,][^,]{0,49}$'),
    color text not null default '#6b7280' check (color ~ '^#[0-9a-f]{6}$'),
    description text not null default '' check (char_length(description) <= 200),
    created_at timestamptz not null default now()
);
create unique index labels_name_key on labels (lower(name));

create sequence ticket_number_seq;

create table tickets (
    id uuid primary key default uuidv7(),
    number bigint not null default nextval('ticket_number_seq'),
    user_id uuid not null references users,
    type text not null check (type in ('bug', 'feature', 'support')),
    priority text not null default 'medium'
        check (priority in ('low', 'medium', 'high', 'critical')),
    -- Sorting by priority is a sort by this rank (critical = 4).
    priority_rank smallint generated always as (
        case priority when 'low' then 1 when 'medium' then 2 when 'high' then 3 else 4 end
    ) stored,
    status text not null default 'open'
        check (status in ('open', 'in_progress', 'waiting', 'resolved', 'closed')),
    title text not null check (char_length(title) between 10 and 200),
    description text not null check (char_length(description) between 20 and 65536),
    assigned_to_user_id uuid references users,
    tags text[] not null default '{}',
    metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
    github_issue_number integer,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    resolved_at timestamptz,
    closed_at timestamptz,
    search tsvector generated always as (
        setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('english', description), 'B')
    ) stored
);
alter sequence ticket_number_seq owned by tickets.number;
create unique index tickets_number_key on tickets (number);
-- One index per sort, each ending in id so the keyset (value, id) is total.
create index tickets_created_idx on tickets (created_at, id);
create index tickets_updated_idx on tickets (updated_at, id);
create index tickets_priority_idx on tickets (priority_rank, created_at, id);
-- A submitter's own list, in each sort.
create index tickets_submitter_created_idx on tickets (user_id, created_at, id);
create index tickets_submitter_updated_idx on tickets (user_id, updated_at, id);
-- Triage views: by status, by assignee (null = unassigned).
create index tickets_status_created_idx on tickets (status, created_at, id);
create index tickets_status_priority_idx on tickets (status, priority_rank, created_at, id);
create index tickets_assignee_idx on tickets (assigned_to_user_id, status, created_at, id);
create index tickets_type_idx on tickets (type, created_at, id);
create index tickets_tags_idx on tickets using gin (tags);
create index tickets_metadata_idx on tickets using gin (metadata jsonb_path_ops);
create index tickets_search_idx on tickets using gin (search);
create unique index tickets_github_issue_key on tickets (github_issue_number);

create table comments (
    id uuid primary key default uuidv7(),
    ticket_id uuid not null references tickets on delete cascade,
    author_id uuid not null references users,
    body text not null check (char_length(body) between 1 and 65536),
    is_internal boolean not null default false,
    -- Comments that arrived from GitHub keep the GitHub login and comment id.
    source text not null default 'ticketdesk' check (source in ('ticketdesk', 'github')),
    github_login text,
    github_comment_id bigint,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    search tsvector generated always as (to_tsvector('english', body)) stored
);
create unique index comments_github_comment_key on comments (github_comment_id);
create index comments_ticket_idx on comments (ticket_id, created_at, id);
-- Full-text search only ever looks at public comments.
create index comments_public_search_idx on comments using gin (search) where not is_internal;

create table ticket_events (
    id uuid primary key default uuidv7(),
    ticket_id uuid not null references tickets on delete cascade,
    actor_id uuid references users,
    kind text not null,
    data jsonb not null default '{}',
    -- Events about internal notes are for staff only.
    is_internal boolean not null default false,
    created_at timestamptz not null default now()
);
create index ticket_events_ticket_idx on ticket_events (ticket_id, created_at, id);

create table idempotency_keys (
    user_id uuid not null references users on delete cascade,
    key text not null,
    request_hash bytea not null,
    -- Deferred: the key is claimed before the ticket it names is inserted.
    ticket_id uuid not null references tickets on delete cascade deferrable initially deferred,
    created_at timestamptz not null default now(),
    primary key (user_id, key)
);
create index idempotency_keys_created_idx on idempotency_keys (created_at);
