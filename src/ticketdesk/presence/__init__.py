"""Who of the staff is on a ticket right now, viewing or replying, so that two agents do
not answer the same ticket."""
