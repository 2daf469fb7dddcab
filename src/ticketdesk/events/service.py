"""The event log: every change to a ticket, written in the change's transaction.

``record`` subscribes to every change (see ``ticketdesk.subscriptions``), so each one
leaves its row; ``list_events`` reads a ticket's timeline as its reader may see it.
"""

from uuid import UUID

from psycopg.types.json import Jsonb

from ticketdesk.auth.service import Actor
from ticketdesk.changes import Change
from ticketdesk.db import Connection
from ticketdesk.events.schemas import Event, EventPage
from ticketdesk.sql import execute, fetch_all, load_queries
from ticketdesk.tickets import access

Q = load_queries(__package__)


async def record(conn: Connection, change: Change) -> None:
    """Write the event row of ``change`` on the caller's connection."""
    await execute(
        conn,
        Q.insert_event,
        {
            "ticket_id": change.ticket_id,
            "actor_id": change.actor_id,
            "kind": change.kind,
            "data": Jsonb(change.data),
            "is_internal": change.is_internal,
        },
    )


async def list_events(
    conn: Connection, actor: Actor, ticket_id: UUID, *, after: UUID | None, limit: int
) -> EventPage:
    """A ticket's timeline as ``actor`` may see it: no internal-note events for submitters."""
    rows = await fetch_all(
        conn,
        Event,
        Q.list_events,
        {
            "ticket_id": ticket_id,
            "staff": access.sees_internal(actor),
            "viewer_id": actor.id,
            "after_id": after,
            "limit": limit + 1,
        },
    )
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return EventPage(items=rows[:limit], next_cursor=next_cursor)
