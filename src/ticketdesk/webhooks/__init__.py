"""Outbound webhooks: ticket changes sent to the HTTP endpoints admins register."""
