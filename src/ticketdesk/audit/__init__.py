"""The audit trail: who did which administrative action, when, from where, and what it
changed."""
