"""Mail about tickets: who hears of which change, each person's choices, sending."""
