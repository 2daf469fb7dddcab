-- name: insert_comment
insert into comments (ticket_id, author_id, body, is_internal, source, github_login, github_comment_id)
values (%(ticket_id)s, %(author_id)s, %(body)s, %(is_internal)s, %(source)s, %(github_login)s,
        %(github_comment_id)s)
returning id;

-- name: insert_imported_comments
-- Comments brought over from another system, with their own times, in one statement.
insert into comments (ticket_id, author_id, body, is_internal, created_at, updated_at)
select ticket_id, author_id, body, is_internal, created_at, created_at
from unnest(%(ticket_id)s::uuid[], %(author_id)s::uuid[], %(body)s::text[],
            %(is_internal)s::boolean[], %(created_at)s::timestamptz[])
    with ordinality as given (ticket_id, author_id, body, is_internal, created_at, position)
order by position;

-- name: list_comments
select c.id, c.ticket_id, c.body, c.is_internal, c.source, c.github_login, c.created_at,
       c.updated_at,
       jsonb_build_object('id', u.id, 'name', u.name, 'role', u.role,
                          'email', case when %(staff)s or u.id = %(viewer_id)s then u.email end) as author
from comments c join users u on u.id = c.author_id
where c.ticket_id = %(ticket_id)s and (%(staff)s or not c.is_internal)
order by c.created_at, c.id;

-- name: get_comment
select c.id, c.ticket_id, c.body, c.is_internal, c.source, c.github_login, c.created_at,
       c.updated_at,
       jsonb_build_object('id', u.id, 'name', u.name, 'role', u.role,
                          'email', case when %(staff)s or u.id = %(viewer_id)s then u.email end) as author
from comments c join users u on u.id = c.author_id
where c.id = %(comment_id)s;

-- name: comment_for_github_id
select id, ticket_id from comments where github_comment_id = %(github_comment_id)s;

-- name: update_github_comment
update comments set body = %(body)s, updated_at = now()
where github_comment_id = %(github_comment_id)s and source = 'github'
returning id, ticket_id;

-- name: delete_github_comment
delete from comments
where github_comment_id = %(github_comment_id)s and source = 'github'
returning id, ticket_id;

-- A public reply by id, for channels outside the app (mail): internal notes never match.
-- name: get_public_comment
select c.id, c.ticket_id, c.body, c.is_internal, c.source, c.github_login, c.created_at,
       c.updated_at,
       jsonb_build_object('id', u.id, 'name', u.name, 'role', u.role, 'email', null) as author
from comments c join users u on u.id = c.author_id
where c.id = %(comment_id)s and not c.is_internal;

-- A merge moves a duplicate's conversation to the main ticket (notes stay notes).
-- name: move_comments
update comments set ticket_id = %(to_id)s where ticket_id = %(from_id)s returning id;

-- An undone merge moves back the comments it moved that are still on the main ticket.
-- name: move_comments_back
update comments set ticket_id = %(to_id)s
where id = any(%(ids)s::uuid[]) and ticket_id = %(from_id)s
returning id;

-- name: delete_comment
delete from comments where id = %(comment_id)s returning id, ticket_id;
