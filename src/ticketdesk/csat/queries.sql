-- name: start_round
insert into csat_rounds (ticket_id, user_id, token_expires_at)
select t.id, t.user_id, now() + make_interval(secs => %(ttl_seconds)s)
from tickets t
where t.id = %(ticket_id)s;

-- name: end_rounds
-- The ticket was reopened: its rounds ask no more.
update csat_rounds set reopened_at = now()
where ticket_id = %(ticket_id)s and reopened_at is null;

-- name: latest_round
-- The ticket's latest round, locked: two ratings of it queue up.
select r.id, r.ticket_id, r.user_id, r.rating, r.comment, r.rated_at, r.changed_at,
       r.token_used_at, r.token_expires_at, r.reopened_at, t.status as ticket_status
from csat_rounds r
join tickets t on t.id = r.ticket_id
where r.ticket_id = %(ticket_id)s
order by r.started_at desc, r.id desc
limit 1
for update of r;

-- name: latest_round_view
-- The ticket's latest round, as its page shows it.
select r.id, r.ticket_id, r.user_id, r.rating, r.comment, r.rated_at, r.changed_at,
       r.token_used_at, r.token_expires_at, r.reopened_at, t.status as ticket_status
from csat_rounds r
join tickets t on t.id = r.ticket_id
where r.ticket_id = %(ticket_id)s
order by r.started_at desc, r.id desc
limit 1;

-- name: round_by_id
select r.id, r.ticket_id, r.user_id, r.rating, r.comment, r.rated_at, r.changed_at,
       r.token_used_at, r.token_expires_at, r.reopened_at, t.status as ticket_status
from csat_rounds r
join tickets t on t.id = r.ticket_id
where r.id = %(round_id)s
for update of r;

-- name: spend_token
update csat_rounds set token_used_at = now() where id = %(round_id)s;

-- name: save_rating
update csat_rounds set
    rating = %(rating)s,
    comment = %(comment)s,
    rated_at = coalesce(rated_at, now()),
    changed_at = now()
where id = %(round_id)s;

-- name: ticket_info
select number, title from tickets where id = %(ticket_id)s;

-- name: link_round
-- The latest round of a ticket, for the mail that asks for a rating: its id while it is
-- not rated yet, its links still work and the ticket is still resolved or closed.
select r.id
from csat_rounds r
join tickets t on t.id = r.ticket_id
where r.ticket_id = %(ticket_id)s
  and r.rating is null and r.reopened_at is null
  and r.token_used_at is null and r.token_expires_at > now()
  and t.status in ('resolved', 'closed')
  and r.started_at = (select max(started_at) from csat_rounds where ticket_id = r.ticket_id);
