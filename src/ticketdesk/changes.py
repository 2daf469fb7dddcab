"""The one door every change to a ticket goes through.

A service that changes a ticket, its conversation or its files describes the change as
a ``Change`` and calls ``record_change`` on its own connection, inside its transaction.
Whoever acts on changes hears about it there, in the same transaction, so what they do
(the timeline's event row, the jobs that mirror the change to GitHub) commits or
vanishes with the change itself.

This module knows none of them: the subscribers are named once, in
``ticketdesk.subscriptions``, and installed by every entry point at start-up. A change
recorded before that is refused rather than silently left without its effects.
"""

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from ticketdesk.db import Connection


@dataclass(frozen=True)
class Change:
    """A change to a ticket, as it is about to be recorded."""

    ticket_id: UUID
    kind: str
    actor_id: UUID | None
    data: dict[str, Any] = field(default_factory=dict)
    # About an internal note: for staff eyes only, on every channel.
    is_internal: bool = False


Subscriber = Callable[[Connection, Change], Awaitable[None]]

_subscribers: list[Subscriber] = []


def install(subscribers: Sequence[Subscriber]) -> None:
    """Make ``subscribers`` hear about every change, in this order (again: replaces them)."""
    _subscribers[:] = subscribers


async def record_change(conn: Connection, change: Change) -> None:
    """Tell every subscriber about ``change``, on the caller's connection."""
    if not _subscribers:
        raise RuntimeError(
            "no one subscribes to changes: call ticketdesk.subscriptions.install() at start-up"
        )
    for subscriber in _subscribers:
        await subscriber(conn, change)


# The PostgreSQL channel the live event stream listens on, in every API process.
LIVE_CHANNEL = "ticketdesk_live"


async def announce_live(conn: Connection, message: dict[str, str]) -> None:
    """Tell the live event stream about ``message`` (JSON) when the caller's transaction
    commits; nothing is sent if it rolls back."""
    await conn.execute("select pg_notify(%s, %s)", (LIVE_CHANNEL, json.dumps(message)))
