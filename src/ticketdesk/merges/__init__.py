"""Merging a duplicate ticket into a main ticket, and undoing it."""
