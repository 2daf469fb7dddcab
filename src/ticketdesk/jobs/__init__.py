"""Background jobs on PostgreSQL (procrastinate): deferring, running, retrying."""
