"""Live updates: ticket events and staff presence pushed to open pages as server-sent events."""
