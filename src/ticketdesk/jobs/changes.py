"""The one door every change to a ticket goes through: its event row, then the work it causes.

Ticket and comment services call ``record_change`` where they used to call ``events.record``;
the background work a change causes (today: mirroring to GitHub) is queued here, on the
same connection and in the same transaction, so it commits or vanishes with the change.
Changes that must not cause work (GitHub's own bookkeeping) call ``events.record``.
"""

from uuid import UUID

from ticketdesk.db import Connection
from ticketdesk.events import service as events
from ticketdesk.github import service as github


async def record_change(conn: Connection, change: events.Change) -> UUID:
    """Record ``change`` in the ticket's event log and queue the jobs it causes."""
    event_id = await events.record(conn, change)
    await github.on_change(conn, change)
    return event_id
