-- Outbound webhooks: endpoints admins register, and the log of what was sent to them.

create table webhooks (
    id uuid primary key,
    name text not null,
    url text not null,
    events text[] not null,
    format text not null check (format in ('json', 'slack', 'discord')),
    -- Signs every delivery (Standard Webhooks); shown to an admin once, when made.
    secret text not null,
    is_active boolean not null default true,
    -- Its receivers are staff: it may carry internal notes, if it also asks for them.
    staff_only boolean not null default false,
    include_internal boolean not null default false check (staff_only or not include_internal),
    -- Set when a delivery failed for good; cleared by the next one that succeeds.
    failing_since timestamptz,
    last_error text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table webhook_deliveries (
    id uuid primary key,
    webhook_id uuid not null references webhooks on delete cascade,
    -- The Standard Webhooks message id: the same when a message is delivered again.
    message_id text not null,
    event text not null,
    payload jsonb not null,
    status text not null default 'pending'
        check (status in ('pending', 'succeeded', 'failed', 'cancelled')),
    attempts integer not null default 0,
    status_code integer,
    duration_ms integer,
    response_excerpt text,
    error text,
    created_at timestamptz not null default now(),
    finished_at timestamptz
);
create index webhook_deliveries_webhook_idx on webhook_deliveries (webhook_id, id desc);
