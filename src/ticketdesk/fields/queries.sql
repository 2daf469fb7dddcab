-- Custom fields: their definitions, and the values tickets carry.

-- name: list_fields
select id, key, label, type, options, staff_only, ticket_types, required_for, created_at,
       updated_at
from custom_fields
where %(staff)s or not staff_only
order by created_at, key;

-- name: insert_field
insert into custom_fields (key, label, type, options, staff_only, ticket_types, required_for)
values (%(key)s, %(label)s, %(type)s, %(options)s, %(staff_only)s, %(ticket_types)s,
        %(required_for)s)
returning id, key, label, type, options, staff_only, ticket_types, required_for, created_at,
          updated_at;

-- name: field_for_update
select id, key, label, type, options, staff_only, ticket_types, required_for, created_at,
       updated_at
from custom_fields where id = %(field_id)s for update;

-- name: update_field
update custom_fields
set label = %(label)s, options = %(options)s, staff_only = %(staff_only)s,
    ticket_types = %(ticket_types)s, required_for = %(required_for)s, updated_at = now()
where id = %(field_id)s
returning id, key, label, type, options, staff_only, ticket_types, required_for, created_at,
          updated_at;

-- name: options_in_use
-- Which of these options some ticket has chosen (the text index, one range an option).
select distinct text_value from ticket_field_values
where field_id = %(field_id)s and text_value = any(%(options)s::text[]);

-- name: delete_field_values
-- Before the field itself: by its own type's index, not a scan of every value.
delete from ticket_field_values
where field_id = %(field_id)s
  and (text_value is not null or number_value is not null or date_value is not null
       or bool_value is not null);

-- name: delete_field
delete from custom_fields where id = %(field_id)s returning id;

-- name: ticket_values
-- The values of these tickets, with their fields' keys and types; staff-only fields
-- only for staff.
select v.ticket_id, f.key, f.type, f.staff_only, v.text_value, v.number_value, v.date_value,
       v.bool_value
from ticket_field_values v join custom_fields f on f.id = v.field_id
where v.ticket_id = any(%(ticket_ids)s::uuid[]) and (%(staff)s or not f.staff_only)
order by v.ticket_id, f.created_at, f.key, v.text_value;

-- name: clear_value
delete from ticket_field_values where ticket_id = %(ticket_id)s and field_id = %(field_id)s;

-- name: insert_value
insert into ticket_field_values (ticket_id, field_id, text_value, number_value, date_value,
                                 bool_value)
values (%(ticket_id)s, %(field_id)s, %(text_value)s, %(number_value)s, %(date_value)s,
        %(bool_value)s);
