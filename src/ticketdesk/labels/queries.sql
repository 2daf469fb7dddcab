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
delete from labels where id = %(label_id)s returning name;

-- name: rename_on_tickets
update tickets set tags = array_replace(tags, %(old)s, %(new)s)
where tags @> array[%(old)s]::text[];

-- name: remove_from_tickets
update tickets set tags = array_remove(tags, %(name)s)
where tags @> array[%(name)s]::text[];

-- name: canonical_names
select name from labels where lower(name) = any(%(names)s::text[]);
