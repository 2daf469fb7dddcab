"""Test doubles for the services ticketdesk talks to."""
