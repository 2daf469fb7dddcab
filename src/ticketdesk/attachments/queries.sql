-- name: list_attachments
select id, ticket_id, uploader_id, filename, media_type, size_bytes, sha256, created_at
from attachments where ticket_id = %(ticket_id)s
order by created_at, id;

-- name: get_attachment
select id, ticket_id, uploader_id, filename, media_type, size_bytes, sha256, created_at,
       storage_key
from attachments where id = %(attachment_id)s and ticket_id = %(ticket_id)s;

-- name: insert_attachment
insert into attachments
    (id, ticket_id, uploader_id, filename, media_type, size_bytes, sha256, storage_key)
values
    (%(id)s, %(ticket_id)s, %(uploader_id)s, %(filename)s, %(media_type)s, %(size_bytes)s,
     %(sha256)s, %(storage_key)s)
returning id, ticket_id, uploader_id, filename, media_type, size_bytes, sha256, created_at;

-- name: delete_attachment
delete from attachments where id = %(attachment_id)s;

-- name: known_storage_keys
select storage_key from attachments where storage_key = any(%(keys)s);

-- name: lock_uploader_storage
-- One uploader's uploads are recorded one at a time, so two cannot both pass the quota.
select pg_advisory_xact_lock(hashtextextended('attachments:' || %(uploader_id)s::text, 0));

-- name: uploader_storage_bytes
select coalesce(sum(size_bytes), 0)::bigint from attachments where uploader_id = %(uploader_id)s;

-- A merge moves a duplicate's files to the main ticket (their stored objects stay put).
-- name: move_attachments
update attachments set ticket_id = %(to_id)s where ticket_id = %(from_id)s returning id;

-- name: move_attachments_back
update attachments set ticket_id = %(to_id)s
where id = any(%(ids)s::uuid[]) and ticket_id = %(from_id)s
returning id;
