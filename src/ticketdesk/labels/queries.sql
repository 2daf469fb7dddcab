-- name: list_labels
select id, name, color, description, created_at from labels order by lower(name);

-- name: insert_label
insert into labels (name, color, description)
values (%(name)s, %(color)s, %(description)s)
returning id, name, color, description, created_at;

-- name: get_label_for_update
select id, name, color, description, created_at from labels where id = %(label_id)s for update;

-- name: update_label
update labels set
    name = coalesce(%(name)s, name),
    color = coalesce(%(color)s, color),
    description = coalesce(%(description)s, description)
where id = %(label_id)s
returning id, name, color, description, created_at;

-- name: delete_label
delete from labels where id = %(label_id)s
returning id, name, color, description, created_at;

-- name: canonical_names
-- Shared locks: a label cannot be renamed or deleted while a ticket takes it on.
select name from labels where lower(name) = any(%(names)s::text[]) for share;
