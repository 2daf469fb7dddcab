-- A submitter's own list sorted by priority, without a sort step.
create index tickets_submitter_priority_idx on tickets (user_id, priority_rank, created_at, id);
