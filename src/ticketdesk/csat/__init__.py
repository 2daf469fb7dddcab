"""Satisfaction ratings: a resolved ticket's submitter rates it good or bad."""
