"""The event log: every change to a ticket, written in the change's transaction.

``record`` subscribes to every change (see ``ticketdesk.subscriptions``), so each one
leaves its row. Who may see an event, and the actor's address in it, is decided in one
place, ``shown_to``: the timeline (``list_events``) and the live stream
(``ticketdesk.live``) both read rows through it.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb
from pydantic import BaseModel

from ticketdesk.auth.service import Actor
from ticketdesk.changes import Change
from ticketdesk.db import Connection
from ticketdesk.events.schemas import Event, EventPage, LiveEvent
from ticketdesk.sql import fetch_all, fetch_value, load_queries
from ticketdesk.tickets import access
from ticketdesk.users.schemas import UserRef

Q = load_queries(__package__)


class EventRow(BaseModel):
    """An event with what deciding who may see it needs; never sent as it is."""

    id: UUID
    ticket_id: UUID
    ticket_number: int
    submitter_id: UUID
    kind: str
    data: dict[str, Any]
    is_internal: bool
    actor: UserRef | None
    created_at: datetime


def shown_to(actor: Actor, row: EventRow) -> LiveEvent | None:
    """``row`` as ``actor`` may see it, or None: staff see every ticket's events, internal
    ones too; a submitter sees the public events of the tickets they may see. The actor's
    address only where ``access.shows_email`` allows it."""
    if not access.may_see_submitted_by(actor, row.submitter_id):
        return None
    if row.is_internal and not access.sees_internal(actor):
        return None
    by = row.actor
    if by is not None and not access.shows_email(actor, by.id):
        by = by.model_copy(update={"email": None})
    return LiveEvent(
        id=row.id,
        ticket_id=row.ticket_id,
        ticket_number=row.ticket_number,
        kind=row.kind,
        actor=by,
        data=row.data,
        created_at=row.created_at,
    )


async def record(conn: Connection, change: Change) -> UUID:
    """Write the event row of ``change`` on the caller's connection; its id."""
    return await fetch_value(
        conn,
        UUID,
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
        EventRow,
        Q.list_events,
        {
            "ticket_id": ticket_id,
            "include_internal": access.sees_internal(actor),
            "after_id": after,
            "limit": limit + 1,
        },
    )
    shown = [event for row in rows[:limit] if (event := shown_to(actor, row)) is not None]
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    items = [Event.model_validate(event.model_dump(exclude={"ticket_number"})) for event in shown]
    return EventPage(items=items, next_cursor=next_cursor)


async def events_by_ids(conn: Connection, ids: list[UUID]) -> list[EventRow]:
    """The events of ``ids`` that still exist, oldest first, for ``shown_to`` to filter."""
    return await fetch_all(conn, EventRow, Q.events_by_ids, {"ids": ids})


async def events_from(conn: Connection, from_id: UUID, *, limit: int) -> list[EventRow]:
    """Every ticket's events from ``from_id`` on, oldest first, at most ``limit``."""
    return await fetch_all(conn, EventRow, Q.events_from, {"from_id": from_id, "limit": limit})
