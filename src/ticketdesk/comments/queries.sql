-- name: insert_comment
insert into comments (ticket_id, author_id, body, is_internal, source, github_login, github_comment_id)
values (%(ticket_id)s, %(author_id)s, %(body)s, %(is_internal)s, %(source)s, %(github_login)s,
        %(github_comment_id)s)
returning id;

-- name: list_comments
select c.id, c.ticket_id, c.body, c.is_internal, c.source, c.github_login, c.created_at,
       c.updated_at,
       jsonb_build_object('id', u.id, 'name', u.name, 'role', u.role,
                          'email', case when %(staff)s then u.email end) as author
from comments c join users u on u.id = c.author_id
where c.ticket_id = %(ticket_id)s and (%(staff)s or not c.is_internal)
order by c.created_at, c.id;

-- name: get_comment
select c.id, c.ticket_id, c.body, c.is_internal, c.source, c.github_login, c.created_at,
       c.updated_at,
       jsonb_build_object('id', u.id, 'name', u.name, 'role', u.role,
                          'email', case when %(staff)s then u.email end) as author
from comments c join users u on u.id = c.author_id
where c.id = %(comment_id)s;
