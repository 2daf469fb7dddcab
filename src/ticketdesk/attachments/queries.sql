-- name: list_attachments
select id, ticket_id, uploader_id, filename, media_type, size_bytes, sha256, created_at
from attachments where ticket_id = %(ticket_id)s
order by created_at, id;
