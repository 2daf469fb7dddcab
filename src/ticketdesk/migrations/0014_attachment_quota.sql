-- The per-person attachment quota sums a person's files on every upload: an index that
-- holds the sizes answers it without reading the table.
create index attachments_uploader_idx on attachments (uploader_id) include (size_bytes);
