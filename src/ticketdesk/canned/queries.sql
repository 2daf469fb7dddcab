-- name: list_canned_replies
-- The shared replies and the caller's own, by title.
select id, title, body, case when owner_id is null then 'shared' else 'personal' end as scope,
       set_status, add_labels, created_at, updated_at
from canned_replies
where owner_id is null or owner_id = %(viewer_id)s
order by lower(title), id;

-- name: get_canned_reply
select id, title, body, case when owner_id is null then 'shared' else 'personal' end as scope,
       set_status, add_labels, created_at, updated_at
from canned_replies
where id = %(reply_id)s and (owner_id is null or owner_id = %(viewer_id)s);

-- name: insert_canned_reply
insert into canned_replies (owner_id, title, body, set_status, add_labels, created_by)
values (%(owner_id)s, %(title)s, %(body)s, %(set_status)s, %(add_labels)s, %(created_by)s)
returning id, title, body, case when owner_id is null then 'shared' else 'personal' end as scope,
          set_status, add_labels, created_at, updated_at;

-- name: update_canned_reply
update canned_replies set
    title = %(title)s,
    body = %(body)s,
    set_status = %(set_status)s,
    add_labels = %(add_labels)s,
    updated_at = now()
where id = %(reply_id)s
returning id, title, body, case when owner_id is null then 'shared' else 'personal' end as scope,
          set_status, add_labels, created_at, updated_at;

-- name: delete_canned_reply
delete from canned_replies where id = %(reply_id)s;
