-- The GitHub integration: links between tickets and issues, mirrored comments, deliveries.

-- name: publish_settings
insert into github_integration (singleton, enabled, repo, auto_create_issues)
values (true, %(enabled)s, %(repo)s, %(auto_create_issues)s)
on conflict (singleton) do update
set enabled = excluded.enabled, repo = excluded.repo,
    auto_create_issues = excluded.auto_create_issues, updated_at = now();

-- What a change hook needs to decide: is the integration on, is the ticket linked, and
-- did the change come from GitHub's side (made by a system user)?
-- name: change_context
select g.enabled, g.repo, g.auto_create_issues,
       exists (select 1 from github_links l where l.ticket_id = %(ticket_id)s) as linked,
       coalesce((select u.is_system from users u where u.id = %(actor_id)s), false) as by_system
from github_integration g;

-- name: insert_create_link
insert into github_links (ticket_id, repo, create_requested)
values (%(ticket_id)s, %(repo)s, true)
on conflict (ticket_id) do nothing;

-- name: get_link
select * from github_links where ticket_id = %(ticket_id)s;

-- name: lock_link
select * from github_links where ticket_id = %(ticket_id)s for update;

-- A new link, or one replacing a link whose issue was never confirmed.
-- name: upsert_link
insert into github_links (ticket_id, repo, issue_number, create_requested)
values (%(ticket_id)s, %(repo)s, %(issue_number)s, %(create_requested)s)
on conflict (ticket_id) do update
set repo = excluded.repo, issue_number = excluded.issue_number,
    create_requested = excluded.create_requested, issue_url = null, issue_title = null,
    pushed_title = null, pushed_open = null, create_attempted_at = null, linked_at = now(),
    last_synced_at = null, last_error = null, last_error_at = null
returning *;

-- name: link_for_issue
select * from github_links
where lower(repo) = lower(%(repo)s) and issue_number = %(issue_number)s;

-- name: highest_issue_number
select coalesce(max(issue_number), 0) from github_links where lower(repo) = lower(%(repo)s);

-- The first attempt's time is kept: a lost issue is searched for back to it.
-- name: mark_create_attempt
update github_links set create_attempted_at = coalesce(create_attempted_at, now())
where ticket_id = %(ticket_id)s;

-- name: store_issue
update github_links
set issue_number = %(issue_number)s, issue_url = %(issue_url)s, issue_title = %(issue_title)s,
    pushed_title = %(pushed_title)s, pushed_open = %(pushed_open)s
where ticket_id = %(ticket_id)s;

-- An issue from an "opened" webhook whose hidden block names a ticket still waiting for it.
-- name: adopt_issue
update github_links
set issue_number = %(issue_number)s, issue_url = %(issue_url)s, issue_title = %(issue_title)s,
    pushed_title = %(issue_title)s, pushed_open = true
where ticket_id = %(ticket_id)s and issue_number is null and lower(repo) = lower(%(repo)s);

-- name: record_pushed
update github_links set pushed_title = %(pushed_title)s, pushed_open = %(pushed_open)s,
    issue_title = coalesce(%(issue_title)s, issue_title)
where ticket_id = %(ticket_id)s;

-- name: note_issue_open
update github_links set pushed_open = %(open)s where ticket_id = %(ticket_id)s;

-- name: note_issue_title
update github_links set issue_title = %(issue_title)s where ticket_id = %(ticket_id)s;

-- name: record_synced
-- Whether the link's state changed: it had never synced, or its last attempt had failed.
with old as (
    select ticket_id, last_synced_at, last_error from github_links
    where ticket_id = %(ticket_id)s for update
)
update github_links l set last_synced_at = now(), last_error = null, last_error_at = null
from old where l.ticket_id = old.ticket_id
returning old.last_synced_at is null or old.last_error is not null as changed;

-- name: record_link_error
-- Whether the link's state changed: its last error was another one, or none.
with old as (
    select ticket_id, last_error from github_links
    where ticket_id = %(ticket_id)s for update
)
update github_links l set last_error = %(error)s, last_error_at = now()
from old where l.ticket_id = old.ticket_id
returning old.last_error is distinct from %(error)s as changed;

-- name: rate_limited_until
select rate_limited_until from github_integration where rate_limited_until > now();

-- name: set_rate_limited_until
update github_integration
set rate_limited_until = greatest(coalesce(rate_limited_until, %(until)s), %(until)s);

-- name: comment_mirrors
select comment_id, github_comment_id, attempted_at, mirrored_at
from github_comment_mirrors where comment_id = any(%(comment_ids)s);

-- name: start_comment_mirror
insert into github_comment_mirrors (comment_id) values (%(comment_id)s)
on conflict (comment_id) do nothing;

-- name: finish_comment_mirror
update github_comment_mirrors
set github_comment_id = %(github_comment_id)s, mirrored_at = coalesce(mirrored_at, now())
where comment_id = %(comment_id)s;

-- name: is_mirrored_comment
select exists (
    select 1 from github_comment_mirrors where github_comment_id = %(github_comment_id)s
);

-- A delivery refused for its payload is taken over by its redelivery.
-- name: claim_delivery
insert into github_deliveries (delivery_id, event, action, outcome)
values (%(delivery_id)s, %(event)s, %(action)s, 'received')
on conflict (delivery_id) do update
set event = excluded.event, action = excluded.action, outcome = excluded.outcome,
    received_at = now()
where github_deliveries.outcome = 'rejected';

-- A signed delivery whose payload GitHub would never send; one seen before stays as it was.
-- name: record_rejected_delivery
insert into github_deliveries (delivery_id, event, action, outcome)
values (%(delivery_id)s, %(event)s, %(action)s, 'rejected')
on conflict (delivery_id) do nothing;

-- name: set_delivery_outcome
update github_deliveries set outcome = %(outcome)s where delivery_id = %(delivery_id)s;

-- name: note_comment_echo
update github_comment_mirrors
set github_comment_id = %(github_comment_id)s, mirrored_at = coalesce(mirrored_at, now())
where comment_id = %(comment_id)s and github_comment_id is null;
