"""Timeline events on the wire."""

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from ticketdesk.users.schemas import UserRef


class Event(BaseModel):
    """One change to a ticket: what, by whom, when, with old and new values in ``data``."""

    id: UUID
    ticket_id: UUID
    kind: str
    actor: UserRef | None
    data: dict[str, Any]
    created_at: datetime


class EventPage(BaseModel):
    """A ticket's timeline, oldest first."""

    items: list[Event]
    next_cursor: str | None


class LiveEvent(Event):
    """An event as the live stream sends it: the timeline's, with its ticket's number."""

    ticket_number: int
