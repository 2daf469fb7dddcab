"""``python -m ticketdesk``: the same as the ``ticketdesk`` command."""

from ticketdesk.cli import main

main()
