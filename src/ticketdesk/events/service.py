"""The event log: every change to a ticket, written in the change's transaction.

``record`` subscribes to every change (see ``ticketdesk.subscriptions``), so each one
leaves its row. Who may see an event, and the actor's address in it, is decided in one
place, ``shown_to``: the timeline (``list_events``) and the live stream
(``ticketdesk.live``) both read rows through it. Each kind's audience is written down in
``audience``: a submitter's timeline shows what concerns them (the ticket's own fields,
its status, public replies, files), not staff bookkeeping.
"""

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, assert_never, get_args
from uuid import UUID

from psycopg.types.json import Jsonb
from pydantic import BaseModel

from ticketdesk.auth.service import Actor
from ticketdesk.changes import Change, EventKind
from ticketdesk.db import Connection
from ticketdesk.events.schemas import Event, EventPage, LiveEvent
from ticketdesk.sql import execute, fetch_all, fetch_value, load_queries
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


class Audience(StrEnum):
    """Who an event of a kind is for."""

    # Staff, and the submitter of the ticket.
    everyone = "everyone"
    # Staff only: triage, routing and the GitHub mirror.
    staff = "staff"


def audience(kind: EventKind) -> Audience:
    """Who events of ``kind`` are for; an event about an internal note is staff's whatever
    its kind."""
    match kind:
        # The submitter's ticket as they see it change: what they wrote (title,
        # description, the environment they reported, its custom fields: a staff-only
        # field's change is internal), where it stands, the conversation and the files
        # on it.
        case (
            "created"
            | "title_changed"
            | "description_changed"
            | "metadata_changed"
            | "custom_field_changed"
            | "status_changed"
            | "commented"
            | "comment_edited"
            | "comment_deleted"
            | "attachment_added"
            | "attachment_deleted"
            # A duplicate merged into a main ticket, or taken back: on both timelines,
            # as the conversation moved (``merges``).
            | "merged"
            | "unmerged"
        ):
            return Audience.everyone
        # Bookkeeping: how staff classify, rank, label and route the ticket, the
        # escalation alarm and SLA breaches, and the GitHub issue the submitter never sees.
        case (
            "type_changed"
            | "priority_changed"
            | "tags_changed"
            | "assigned"
            | "team_changed"
            | "rule_applied"
            | "escalated"
            | "sla_breached"
            | "github_link_requested"
            | "github_issue_number_changed"
            | "github_issue_renamed"
            # A satisfaction rating: staff's (``csat``); its submitter sees it on the page.
            | "rated"
        ):
            return Audience.staff
        case _:
            assert_never(kind)


# The kinds a submitter may see events of, for the queries to keep their pages full.
EVERYONE_KINDS: tuple[EventKind, ...] = tuple(
    kind for kind in get_args(EventKind) if audience(kind) is Audience.everyone
)


def shown_to(actor: Actor, row: EventRow, *, follower: bool = False) -> LiveEvent | None:
    """``row`` as ``actor`` may see it, or None: staff see every ticket's events, internal
    ones too; a submitter sees, of the tickets they may see, the events whose kind is for
    everyone (``audience``) and not about an internal note. The actor's address only where
    ``access.shows_email`` allows it. A ``follower`` (checked by the caller) reads a ticket
    that is not theirs as its submitter would."""
    if not follower and not access.may_see_submitted_by(actor, row.submitter_id):
        return None
    if row.is_internal and not access.sees_internal(actor):
        return None
    # A kind the log holds but no longer names counts as staff's.
    if row.kind not in EVERYONE_KINDS and not access.sees_staff_events(actor):
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


async def record_all(conn: Connection, changes: Sequence[Change]) -> None:
    """Write the event rows of ``changes`` in one statement on the caller's connection."""
    await execute(
        conn,
        Q.insert_events,
        {
            "ticket_id": [c.ticket_id for c in changes],
            "actor_id": [c.actor_id for c in changes],
            "kind": [c.kind for c in changes],
            "data": [Jsonb(c.data) for c in changes],
            "is_internal": [c.is_internal for c in changes],
        },
    )


async def hide_custom_field_changes(conn: Connection, key: str) -> None:
    """Make the past changes of the custom field ``key`` internal (it became staff-only),
    so that no timeline or stream shows its values to a submitter any more."""
    await execute(conn, Q.hide_custom_field_changes, {"key": key})


async def list_events(
    conn: Connection,
    actor: Actor,
    ticket_id: UUID,
    *,
    after: UUID | None,
    limit: int,
    follower: bool = False,
) -> EventPage:
    """A ticket's timeline as ``actor`` may see it (see ``shown_to``); a ``follower``
    reads the public side of a ticket that is not theirs."""
    rows = await fetch_all(
        conn,
        EventRow,
        Q.list_events,
        {
            "ticket_id": ticket_id,
            "include_internal": access.sees_internal(actor),
            "all_kinds": access.sees_staff_events(actor),
            "everyone_kinds": list(EVERYONE_KINDS),
            "after_id": after,
            "limit": limit + 1,
        },
    )
    shown = [
        event
        for row in rows[:limit]
        if (event := shown_to(actor, row, follower=follower)) is not None
    ]
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    items = [Event.model_validate(event.model_dump(exclude={"ticket_number"})) for event in shown]
    return EventPage(items=items, next_cursor=next_cursor)


async def events_by_ids(conn: Connection, ids: list[UUID]) -> list[EventRow]:
    """The events of ``ids`` that still exist, oldest first, for ``shown_to`` to filter."""
    return await fetch_all(conn, EventRow, Q.events_by_ids, {"ids": ids})


async def events_from(conn: Connection, from_id: UUID, *, limit: int) -> list[EventRow]:
    """Every ticket's events from ``from_id`` on, oldest first, at most ``limit``."""
    return await fetch_all(conn, EventRow, Q.events_from, {"from_id": from_id, "limit": limit})
