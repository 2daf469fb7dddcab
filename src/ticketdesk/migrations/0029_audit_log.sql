-- The audit trail: one row per administrative action, written in the action's own
-- transaction, never changed afterwards.

create table audit_log (
    id uuid primary key default uuidv7(),
    -- The action's transaction time.
    at timestamptz not null default now(),
    -- No foreign key: the trail outlives the account. Its email and name as they were
    -- keep the row readable after the account is gone.
    actor_id uuid,
    actor_email text,
    actor_name text,
    -- The request's client, as the proxy-headers middleware resolved it.
    client_address text,
    action text not null check (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
    target_type text not null check (char_length(target_type) between 1 and 50),
    target_id text,
    before jsonb,
    after jsonb,
    -- What the free-text search reads: action, target and both states, lower-cased.
    search text generated always as (
        lower(
            action || ' ' || target_type || ' ' || coalesce(target_id, '') || ' '
            || coalesce(before::text, '') || ' ' || coalesce(after::text, '')
        )
    ) stored
);

-- Newest first, page after page; the other filters narrow this walk.
create index audit_log_at_idx on audit_log (at, id);
create index audit_log_actor_idx on audit_log (actor_id, at, id);
create index audit_log_target_idx on audit_log (target_type, target_id, at, id);
-- action prefixes (webhook.): a range scan over the pattern-ordered names.
create index audit_log_action_idx on audit_log (action text_pattern_ops);

-- q searches by substring: a trigram index answers it where the server has pg_trgm (the
-- embedded demo server does not: there q reads the rows the other filters leave).
do $$
begin
    if exists (select from pg_extension where extname = 'pg_trgm') then
        create index audit_log_search_idx on audit_log using gin (search gin_trgm_ops);
    end if;
end
$$;

-- Rows are never updated nor truncated; they are deleted only by the retention job, which
-- sets ticketdesk.audit_prune for its own transaction.
create function audit_log_guard() returns trigger
language plpgsql as $$
begin
    if tg_op = 'DELETE' and current_setting('ticketdesk.audit_prune', true) = 'on' then
        return old;
    end if;
    raise exception 'audit_log rows cannot be changed (%)', tg_op
        using errcode = 'insufficient_privilege';
end
$$;

create trigger audit_log_guard_rows before update or delete on audit_log
    for each row execute function audit_log_guard();
create trigger audit_log_guard_truncate before truncate on audit_log
    for each statement execute function audit_log_guard();
