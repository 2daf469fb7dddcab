"""Background jobs on PostgreSQL (procrastinate): queueing them inside a change's
transaction, the retry policy, and the admin view of the ones that gave up. The worker
that runs them is ``ticketdesk.worker``."""
