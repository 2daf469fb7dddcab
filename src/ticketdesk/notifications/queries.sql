-- Mail about tickets: settings, choices, pending notifications, bursts and mails.

-- name: publish_settings
insert into notification_settings (singleton, mail_enabled, new_tickets, burst_seconds)
values (true, %(mail_enabled)s, %(new_tickets)s, %(burst_seconds)s)
on conflict (singleton) do update
set mail_enabled = excluded.mail_enabled, new_tickets = excluded.new_tickets,
    burst_seconds = excluded.burst_seconds, updated_at = now();

-- What a change hook needs to decide who hears of a change. No row: mail was never
-- switched on by a running process.
-- The ticket's team members are its active staff (agents and admins): those who hear of
-- its SLA breaches while nobody is assigned.
-- name: change_context
select s.mail_enabled, s.new_tickets, s.burst_seconds,
       t.user_id as submitter_id, t.assigned_to_user_id as assignee_id,
       array(
           select u.id from team_members m join users u on u.id = m.user_id
           where m.team_id = t.team_id
             and u.is_active and not u.is_system and u.role in ('agent', 'admin')
           order by u.id
       ) as team_member_ids
from notification_settings s cross join tickets t
where t.id = %(ticket_id)s;

-- A notification of one kind for each named user and each user of the named roles who
-- can receive it: active, human, not its author (unless told), and not opted out.
-- name: insert_notifications
insert into notifications (ticket_id, recipient_id, kind, actor_id, data)
select %(ticket_id)s, u.id, %(kind)s, %(actor_id)s, %(data)s
from users u
where (u.id = any(%(user_ids)s::uuid[]) or u.role = any(%(roles)s::text[]))
  and u.is_active and not u.is_system
  and (%(include_actor)s or u.id is distinct from %(actor_id)s::uuid)
  and not exists (
      select 1 from notification_opt_outs o where o.user_id = u.id and o.kind = %(kind)s
  )
returning recipient_id;

-- Open a burst for each recipient, or join the open one. Joining updates the row (to
-- nothing new) so that it stays locked until this transaction ends: the job cannot close
-- the burst, and miss the notifications just added, until they are committed.
-- name: open_batches
insert into notification_batches (ticket_id, recipient_id, due_at)
select %(ticket_id)s, r, now() + make_interval(secs => %(burst_seconds)s)
from unnest(%(recipient_ids)s::uuid[]) as r
order by r
on conflict (ticket_id, recipient_id) do update set due_at = notification_batches.due_at
returning recipient_id, due_at, (xmax = 0) as opened;

-- Changes lock the ticket's row before its batches; the job does the same (the mail row's
-- foreign key needs this lock anyway), so the two never wait for each other in a circle.
-- name: lock_ticket_key
select true from tickets where id = %(ticket_id)s for key share;

-- Waits for any transaction that joined the burst, then closes it.
-- name: close_due_batch
delete from notification_batches
where ticket_id = %(ticket_id)s and recipient_id = %(recipient_id)s and due_at <= now()
returning due_at;

-- name: insert_mail
insert into notification_mails (ticket_id, recipient_id, message_id)
values (%(ticket_id)s, %(recipient_id)s, %(message_id)s)
returning id;

-- name: claim_pending
update notifications set mail_id = %(mail_id)s
where ticket_id = %(ticket_id)s and recipient_id = %(recipient_id)s and mail_id is null;

-- name: unsent_mails
select id, ticket_id, recipient_id, message_id
from notification_mails
where ticket_id = %(ticket_id)s and recipient_id = %(recipient_id)s and status = 'pending'
order by id;

-- name: mail_notifications
select kind, actor_id, data from notifications where mail_id = %(mail_id)s order by id;

-- name: mark_sent
update notification_mails
set status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = null
where id = %(mail_id)s;

-- name: mark_failed
update notification_mails
set status = 'failed', failed_at = now(), attempts = attempts + 1, last_error = %(error)s
where id = %(mail_id)s;

-- name: fail_unsent
update notification_mails
set status = 'failed', failed_at = now(), last_error = %(error)s
where ticket_id = %(ticket_id)s and recipient_id = %(recipient_id)s and status = 'pending';

-- name: lock_mail
select status, ticket_id, recipient_id from notification_mails where id = %(mail_id)s
for update;

-- name: retry_mail
update notification_mails set status = 'pending', failed_at = null where id = %(mail_id)s;

-- name: note_attempt_error
update notification_mails set attempts = attempts + 1, last_error = %(error)s
where id = %(mail_id)s;

-- name: cancel_mail
update notification_mails set status = 'cancelled' where id = %(mail_id)s;

-- name: opted_out_kinds
select kind from notification_opt_outs where user_id = %(user_id)s;

-- name: opt_out
insert into notification_opt_outs (user_id, kind)
select u.id, k from users u cross join unnest(%(kinds)s::text[]) as k
where u.id = %(user_id)s
on conflict do nothing;

-- name: opt_in
delete from notification_opt_outs where user_id = %(user_id)s and kind = any(%(kinds)s::text[]);

-- name: is_active_person
select exists (select 1 from users where id = %(user_id)s and is_active and not is_system);

-- name: list_failed_mails
select m.id, m.ticket_id, t.number as ticket_number, t.title as ticket_title,
       u.id as recipient_id, u.name as recipient_name, u.email as recipient_email,
       array(select distinct n.kind from notifications n where n.mail_id = m.id order by 1)
           as kinds,
       m.attempts, m.last_error as error, m.created_at, m.failed_at
from notification_mails m
join tickets t on t.id = m.ticket_id
join users u on u.id = m.recipient_id
where m.status = 'failed' and (%(before_id)s::uuid is null or m.id < %(before_id)s)
order by m.id desc
limit %(limit)s;
