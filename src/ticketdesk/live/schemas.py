"""The event stream's frames on the wire: each event's name and the model of its data."""

from typing import Literal
from uuid import UUID

from pydantic import BaseModel

from ticketdesk.events.schemas import LiveEvent

ResetReason = Literal["unknown_last_event_id", "too_many_missed", "too_slow"]


class LivePresence(BaseModel):
    """``event: presence``: who of the staff is on this ticket changed (staff only)."""

    ticket_id: UUID


class LiveGitHub(BaseModel):
    """``event: github``: the state of this ticket's GitHub link changed (staff only)."""

    ticket_id: UUID


class LiveReset(BaseModel):
    """``event: reset``: events were missed that cannot be replayed; reload what is shown.
    ``unknown_last_event_id``: the id sent is unknown, not the caller's or over an hour
    old; ``too_many_missed``: too many events to replay; ``too_slow``: the client did not
    take what it was sent fast enough."""

    reason: ResetReason


# Each event a stream sends (its ``event:`` line), the model of its ``data:`` line, and
# whether it carries an ``id:``.
STREAM_EVENTS: dict[str, tuple[type[BaseModel], bool]] = {
    "ticket": (LiveEvent, True),
    "presence": (LivePresence, False),
    "github": (LiveGitHub, False),
    "reset": (LiveReset, False),
}
