-- name: insert_import
insert into imports (source, created_by, filename, content, columns, row_count)
values (%(source)s, %(created_by)s, %(filename)s, %(content)s, %(columns)s, %(row_count)s)
returning id, source, filename, content, columns, row_count, created_at, applied_at, result;

-- name: import_for_update
select id, source, filename, content, columns, row_count, created_at, applied_at, result
from imports where id = %(id)s and source = %(source)s
for update;

-- name: import_by_id
select id, source, filename, content, columns, row_count, created_at, applied_at, result
from imports where id = %(id)s and source = %(source)s;

-- name: mark_applied
-- The file is not kept once its rows are tickets.
update imports set applied_at = now(), result = %(result)s, content = null
where id = %(id)s;

-- name: already_imported
select i.external_id, t.number
from imported_tickets i join tickets t on t.id = i.ticket_id
where i.source = %(source)s and i.external_id = any(%(external_ids)s);

-- name: insert_imported_tickets
insert into imported_tickets (ticket_id, import_id, source_row, source, external_id)
select ticket_id, %(import_id)s, source_row, %(source)s, external_id
from unnest(%(ticket_id)s::uuid[], %(source_row)s::integer[], %(external_id)s::text[])
    as given (ticket_id, source_row, external_id);

-- name: tickets_of_import
select t.id, t.number, t.title, i.source_row as row, i.external_id
from imported_tickets i join tickets t on t.id = i.ticket_id
where i.import_id = %(import_id)s and i.source_row > %(after_row)s
order by i.source_row
limit %(limit)s;

-- name: numbers_of_import
select min(t.number) as first, max(t.number) as last
from imported_tickets i join tickets t on t.id = i.ticket_id
where i.import_id = %(import_id)s;
