-- Outbound webhooks: endpoints and their deliveries.

-- name: list_webhooks
select id, name, url, events, format, is_active, staff_only, include_internal,
       failing_since, last_error, created_at, updated_at
from webhooks order by name, id;

-- name: get_webhook
select id, name, url, events, format, is_active, staff_only, include_internal,
       failing_since, last_error, created_at, updated_at
from webhooks where id = %(webhook_id)s;

-- name: insert_webhook
insert into webhooks (id, name, url, events, format, secret, is_active, staff_only,
                      include_internal)
values (%(id)s, %(name)s, %(url)s, %(events)s, %(format)s, %(secret)s, %(is_active)s,
        %(staff_only)s, %(include_internal)s)
returning id, name, url, events, format, is_active, staff_only, include_internal,
          failing_since, last_error, created_at, updated_at, secret;

-- name: update_webhook
update webhooks
set name = %(name)s, url = %(url)s, events = %(events)s, format = %(format)s,
    is_active = %(is_active)s, staff_only = %(staff_only)s,
    include_internal = %(include_internal)s, updated_at = now()
where id = %(webhook_id)s
returning id, name, url, events, format, is_active, staff_only, include_internal,
          failing_since, last_error, created_at, updated_at;

-- name: rotate_secret
update webhooks set secret = %(secret)s, updated_at = now()
where id = %(webhook_id)s
returning id, name, url, events, format, is_active, staff_only, include_internal,
          failing_since, last_error, created_at, updated_at, secret;

-- name: delete_webhook
delete from webhooks where id = %(webhook_id)s returning id;

-- The active endpoints that take any of the events; those about an internal note only
-- when they are staff-only and ask for notes.
-- name: subscribed_webhooks
select id, events, staff_only from webhooks
where is_active and events && %(events)s::text[]
  and (not %(staff)s or staff_only)
  and (not %(note)s or include_internal)
order by id;

-- name: insert_delivery
insert into webhook_deliveries (id, webhook_id, message_id, event, payload)
values (%(id)s, %(webhook_id)s, %(message_id)s, %(event)s, %(payload)s);

-- What a delivery job sends, and where; its endpoint's settings as they are now.
-- name: delivery_target
select d.id, d.status, d.message_id, d.event, d.payload, w.id as webhook_id, w.url,
       w.format, w.secret, w.is_active, w.staff_only, w.include_internal
from webhook_deliveries d join webhooks w on w.id = d.webhook_id
where d.id = %(delivery_id)s;

-- name: record_attempt
update webhook_deliveries
set attempts = attempts + 1, status = %(status)s, status_code = %(status_code)s,
    duration_ms = %(duration_ms)s, response_excerpt = %(response_excerpt)s,
    error = %(error)s,
    finished_at = case when %(status)s = 'pending' then null else now() end
where id = %(delivery_id)s;

-- name: mark_webhook_ok
update webhooks set failing_since = null, last_error = null
where id = %(webhook_id)s and failing_since is not null;

-- name: mark_webhook_failing
update webhooks set failing_since = coalesce(failing_since, now()), last_error = %(error)s
where id = %(webhook_id)s;

-- name: list_deliveries
select id, webhook_id, message_id, event, status, attempts, status_code, duration_ms,
       response_excerpt, error, created_at, finished_at
from webhook_deliveries
where webhook_id = %(webhook_id)s and (%(before_id)s::uuid is null or id < %(before_id)s)
order by id desc
limit %(limit)s;

-- A message sent again: a new delivery with the same message id and payload.
-- name: copy_delivery
insert into webhook_deliveries (id, webhook_id, message_id, event, payload)
select %(id)s, webhook_id, message_id, event, payload
from webhook_deliveries
where id = %(delivery_id)s and webhook_id = %(webhook_id)s
returning id, webhook_id, message_id, event, status, attempts, status_code, duration_ms,
          response_excerpt, error, created_at, finished_at;
