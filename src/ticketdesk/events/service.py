"""The event log: every change to a ticket, written in the change's transaction."""

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from ticketdesk.auth.service import Actor
from ticketdesk.db import Connection
from ticketdesk.events.schemas import Event, EventPage
from ticketdesk.sql import load_queries
from ticketdesk.tickets import access

Q = load_queries(__package__)


@dataclass(frozen=True)
class Change:
    """A change about to be recorded."""

    ticket_id: UUID
    kind: str
    actor_id: UUID | None
    data: dict[str, Any] = field(default_factory=dict)
    is_internal: bool = False


async def record(conn: Connection, change: Change) -> UUID:
    """Write one event row on the caller's connection; return its id."""
    cur = await conn.execute(
        Q.insert_event,
        {
            "ticket_id": change.ticket_id,
            "actor_id": change.actor_id,
            "kind": change.kind,
            "data": Jsonb(change.data),
            "is_internal": change.is_internal,
        },
    )
    row = await cur.fetchone()
    assert row is not None
    return UUID(str(row["id"]))


async def list_events(
    conn: Connection, actor: Actor, ticket_id: UUID, *, after: UUID | None, limit: int
) -> EventPage:
    """A ticket's timeline as ``actor`` may see it: no internal-note events for submitters."""
    cur = conn.cursor(row_factory=class_row(Event))
    await cur.execute(
        Q.list_events,
        {
            "ticket_id": ticket_id,
            "staff": access.sees_internal(actor),
            "viewer_id": actor.id,
            "after_id": after,
            "limit": limit + 1,
        },
    )
    rows = await cur.fetchall()
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return EventPage(items=rows[:limit], next_cursor=next_cursor)
