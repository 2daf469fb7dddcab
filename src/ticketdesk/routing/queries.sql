-- name: list_rules
select id, name, position, enabled, on_update, stop_processing, conditions, actions,
    created_at, updated_at
from assignment_rules order by position, id;

-- name: rules_to_run
-- The enabled rules, in order; on an update, only those that also run then.
select id, name, position, enabled, on_update, stop_processing, conditions, actions,
    created_at, updated_at
from assignment_rules
where enabled and (not %(on_update)s or on_update)
order by position, id;

-- name: get_rule
select id, name, position, enabled, on_update, stop_processing, conditions, actions,
    created_at, updated_at
from assignment_rules where id = %(rule_id)s;

-- name: lock_rule_order
-- Every rule's id in order, locked: changes to the order are made one at a time.
select id from assignment_rules order by position, id for update;

-- name: insert_rule
insert into assignment_rules
    (name, position, enabled, on_update, stop_processing, conditions, actions)
values (%(name)s, %(position)s, %(enabled)s, %(on_update)s, %(stop_processing)s,
        %(conditions)s, %(actions)s)
returning id;

-- name: update_rule
update assignment_rules set
    name = coalesce(%(name)s, name),
    enabled = coalesce(%(enabled)s, enabled),
    on_update = coalesce(%(on_update)s, on_update),
    stop_processing = coalesce(%(stop_processing)s, stop_processing),
    conditions = coalesce(%(conditions)s, conditions),
    actions = coalesce(%(actions)s, actions),
    updated_at = now()
where id = %(rule_id)s;

-- name: set_positions
update assignment_rules r set position = o.position
from unnest(%(ids)s::uuid[]) with ordinality as o(id, position)
where r.id = o.id and r.position <> o.position;

-- name: delete_rule
delete from assignment_rules where id = %(rule_id)s returning id;

-- name: rules_naming_team
select name from assignment_rules
where actions ->> 'team_id' = %(team_id)s::text
order by position;
