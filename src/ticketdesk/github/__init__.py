"""The two-way GitHub integration: issues mirror tickets, webhooks bring GitHub back."""
