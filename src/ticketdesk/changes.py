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

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

from ticketdesk.db import Connection

# Every kind of change, as the event log names it. Who may see each is decided in
# ``events.service.audience``, which must name every one (mypy holds it to that).
EventKind = Literal[
    "created",
    "title_changed",
    "description_changed",
    "type_changed",
    "priority_changed",
    "status_changed",
    "tags_changed",
    "metadata_changed",
    "custom_field_changed",
    "assigned",
    "team_changed",
    "rule_applied",
    "commented",
    "comment_edited",
    "comment_deleted",
    "attachment_added",
    "attachment_deleted",
    "escalated",
    "sla_breached",
    "github_link_requested",
    "github_issue_number_changed",
    "github_issue_renamed",
    "merged",
    "unmerged",
    "rated",
]


@dataclass(frozen=True)
class Change:
    """A change to a ticket, as it is about to be recorded."""

    ticket_id: UUID
    kind: EventKind
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
