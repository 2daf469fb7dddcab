-- name: insert_event
insert into ticket_events (ticket_id, actor_id, kind, data, is_internal)
values (%(ticket_id)s, %(actor_id)s, %(kind)s, %(data)s, %(is_internal)s);

-- name: list_events
select e.id, e.ticket_id, e.kind, e.data, e.created_at,
       case when u.id is null then null else jsonb_build_object(
           'id', u.id, 'name', u.name, 'role', u.role,
           'email', case when %(staff)s or u.id = %(viewer_id)s then u.email end) end as actor
from ticket_events e
left join users u on u.id = e.actor_id
where e.ticket_id = %(ticket_id)s
  and (%(staff)s or not e.is_internal)
  and (%(after_id)s::uuid is null or e.id > %(after_id)s)
order by e.id
limit %(limit)s;
