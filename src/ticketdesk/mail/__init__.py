"""Mail plumbing: handing messages to SMTP, ticketdesk's addresses, and templates."""
