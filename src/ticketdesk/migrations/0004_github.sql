-- The two-way GitHub integration: which ticket mirrors which issue, how far the mirror
-- has got, and which webhook deliveries were already applied.

-- One row: the integration as the running processes were started with it, so the
-- hooks inside a ticket's transaction can tell whether to queue GitHub work, and what
-- every worker must share about GitHub (when its rate limit lifts).
create table github_integration (
    singleton boolean primary key default true check (singleton),
    enabled boolean not null default false,
    repo text,
    auto_create_issues boolean not null default false,
    rate_limited_until timestamptz,
    updated_at timestamptz not null default now()
);

create table github_links (
    ticket_id uuid primary key references tickets on delete cascade,
    -- owner/name as configured when the link was made.
    repo text not null,
    -- Null only while the issue is being created.
    issue_number integer,
    issue_url text,
    -- The issue's title as last seen on GitHub, to notice renames there.
    issue_title text,
    -- What the issue was last made to match: the ticket's title and whether it was open.
    pushed_title text,
    pushed_open boolean,
    -- Creating an issue: asked for, and when each POST was about to be sent. A set
    -- create_attempted_at with no issue_number means a POST may have reached GitHub.
    create_requested boolean not null default false,
    create_attempted_at timestamptz,
    linked_at timestamptz not null default now(),
    last_synced_at timestamptz,
    last_error text,
    last_error_at timestamptz,
    check (issue_number is not null or create_requested)
);
-- One ticket per issue; also the highest known number per repository, read backwards.
create unique index github_links_issue_key on github_links (lower(repo), issue_number);

-- Public comments posted to GitHub. The row is written before the POST, so a retry
-- knows to look for the comment on GitHub before posting it again.
create table github_comment_mirrors (
    comment_id uuid primary key references comments on delete cascade,
    github_comment_id bigint,
    attempted_at timestamptz not null default now(),
    mirrored_at timestamptz
);
create unique index github_comment_mirrors_github_key on github_comment_mirrors (github_comment_id);

-- Webhook deliveries already applied (X-GitHub-Delivery): a replay changes nothing.
create table github_deliveries (
    delivery_id text primary key,
    event text not null,
    action text,
    outcome text not null,
    received_at timestamptz not null default now()
);
create index github_deliveries_received_idx on github_deliveries (received_at);
