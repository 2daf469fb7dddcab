"""What the presence routes take and answer."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from ticketdesk.users.schemas import UserRef
from ticketdesk.validation import RequestModel

PresenceState = Literal["viewing", "replying"]


class PresenceUpdate(RequestModel):
    """The caller is on the ticket: reading it, or writing a reply or note."""

    state: PresenceState


class PresentPerson(BaseModel):
    """Another member of staff on the ticket."""

    user: UserRef
    state: PresenceState
    # When they came to the ticket, or last changed state on it.
    since: datetime


class PresenceList(BaseModel):
    """The other staff on a ticket now (never the caller), longest there first."""

    others: list[PresentPerson]
