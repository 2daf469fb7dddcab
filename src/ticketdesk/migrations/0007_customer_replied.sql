-- When the submitter's oldest reply that staff have not yet answered arrived; null when
-- staff have the last public word. Triage shows and filters by it.
alter table tickets add column customer_replied_at timestamptz;

-- The triage list of tickets awaiting an answer: few rows, read newest first.
create index tickets_customer_replied_idx on tickets (created_at, id)
    where customer_replied_at is not null;
