"""The one PostgreSQL channel live updates travel on, and what its payloads say.

A change announces itself with ``NOTIFY`` in its own transaction, so the announcement
reaches the listening API processes (``ticketdesk.live``) only if, and when, it commits.
Payloads are small JSON objects naming a row, never its content: the listener loads
what it may show to whom.

- ``{"event": "<ticket event id>"}``: a row of ``ticket_events`` was written;
- ``{"presence": "<ticket id>"}``: who of the staff is on a ticket changed;
- ``{"github": "<ticket id>"}``: the state of a ticket's GitHub link changed.
"""

import json
from dataclasses import dataclass
from uuid import UUID

from ticketdesk.db import Connection

CHANNEL = "ticketdesk_live"


@dataclass(frozen=True)
class EventNotice:
    """A ticket event was committed."""

    event_id: UUID


@dataclass(frozen=True)
class PresenceNotice:
    """Staff presence on a ticket changed."""

    ticket_id: UUID


@dataclass(frozen=True)
class GitHubNotice:
    """The state of a ticket's GitHub link changed."""

    ticket_id: UUID


Notice = EventNotice | PresenceNotice | GitHubNotice


async def announce_event(conn: Connection, event_id: UUID) -> None:
    """Tell the live streams of ``event_id`` when the caller's transaction commits."""
    await _notify(conn, {"event": str(event_id)})


async def announce_presence(conn: Connection, ticket_id: UUID) -> None:
    """Tell staff's live streams that presence on ``ticket_id`` changed, at commit."""
    await _notify(conn, {"presence": str(ticket_id)})


async def announce_github(conn: Connection, ticket_id: UUID) -> None:
    """Tell staff's live streams that the GitHub link of ``ticket_id`` changed, at commit."""
    await _notify(conn, {"github": str(ticket_id)})


async def _notify(conn: Connection, payload: dict[str, str]) -> None:
    await conn.execute("select pg_notify(%s, %s)", (CHANNEL, json.dumps(payload)))


def parse(payload: str) -> Notice | None:
    """What a payload on ``CHANNEL`` announces; None for one this version does not know."""
    try:
        message = json.loads(payload)
        if "event" in message:
            return EventNotice(UUID(message["event"]))
        if "presence" in message:
            return PresenceNotice(UUID(message["presence"]))
        if "github" in message:
            return GitHubNotice(UUID(message["github"]))
    except (ValueError, TypeError, AttributeError):
        pass
    return None
