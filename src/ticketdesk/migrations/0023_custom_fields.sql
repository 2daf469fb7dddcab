-- Custom fields: typed fields admins define for tickets, and each ticket's values.

create table custom_fields (
    id uuid primary key default uuidv7(),
    -- Stable: the name the API uses (custom_fields.<key>, cf.<key>); never changes.
    key text not null unique check (key ~ '^[a-z][a-z0-9_]{0,39}$'),
    label text not null check (char_length(label) between 1 and 80),
    type text not null
        check (type in ('text', 'number', 'date', 'select', 'multi_select', 'checkbox')),
    -- The choices of a select or multi_select; empty for the other types.
    options text[] not null default '{}'
        check ((type in ('select', 'multi_select')) = (cardinality(options) > 0)),
    -- Staff-only fields reach no submitter on any channel.
    staff_only boolean not null default false,
    -- The ticket types the field is for, and those that must give it when opened.
    ticket_types text[] not null default '{bug,feature,support}'
        check (cardinality(ticket_types) > 0 and ticket_types <@ '{bug,feature,support}'),
    required_for text[] not null default '{}' check (required_for <@ ticket_types),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- One row a value: a multi_select has a row for each option chosen, every other type at
-- most one row a ticket. Exactly one of the typed columns is set, the one of the
-- field's type, so that each type has an index of its own on (field, value, ticket):
-- a filter on a field is a range of one of them, and a sort by a field reads it in order.
create table ticket_field_values (
    ticket_id uuid not null references tickets on delete cascade,
    field_id uuid not null references custom_fields on delete cascade,
    text_value text,
    number_value numeric,
    date_value date,
    bool_value boolean,
    check (num_nonnulls(text_value, number_value, date_value, bool_value) = 1)
);
-- A ticket's values (its page, its list row, the cascade when it goes).
create unique index ticket_field_values_key
    on ticket_field_values (ticket_id, field_id, coalesce(text_value, ''));
create index ticket_field_values_text_idx
    on ticket_field_values (field_id, text_value, ticket_id) where text_value is not null;
create index ticket_field_values_number_idx
    on ticket_field_values (field_id, number_value, ticket_id) where number_value is not null;
create index ticket_field_values_date_idx
    on ticket_field_values (field_id, date_value, ticket_id) where date_value is not null;
create index ticket_field_values_bool_idx
    on ticket_field_values (field_id, bool_value, ticket_id) where bool_value is not null;
