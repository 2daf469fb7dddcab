"""Notification shapes on the wire: a person's mail choices, unsubscribing, refused mail."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, StrictBool

from ticketdesk.validation import RequestModel

# Every kind of mail ticketdesk sends about tickets. The first five go to a ticket's
# submitter (and its followers), the next three and mention to staff, escalations to
# admins, SLA breaches to the ticket's assignee (admins, while it has none).
Kind = Literal[
    "ticket_created",
    "reply",
    "status_changed",
    "resolved",
    "closed",
    "new_ticket",
    "assigned",
    "submitter_replied",
    "escalation",
    "sla_breach",
    "mention",
]


class KindChoice(BaseModel):
    """One kind of mail and whether its user gets it."""

    kind: Kind
    label: str = Field(description="What the kind is about, as the settings screen says it.")
    enabled: bool


class NotificationSettings(BaseModel):
    """The kinds of mail the caller may get, each on or off."""

    mail_enabled: bool = Field(
        description="Whether this server sends mail at all; off, the choices are kept but unused."
    )
    kinds: list[KindChoice]


class KindUpdate(RequestModel):
    """Turn one kind of mail on or off."""

    kind: Kind
    enabled: StrictBool


class NotificationSettingsUpdate(RequestModel):
    """Kinds to turn on or off; kinds not named keep their setting."""

    kinds: list[KindUpdate] = Field(max_length=20)


class Unsubscribed(BaseModel):
    """What a one-click unsubscribe turned off."""

    kinds: list[KindChoice]


class FailedMail(BaseModel):
    """A mail that failed for good, as admins see it: the SMTP server refused it, it could
    not be put together, or the server stayed unreachable for all of its job's attempts."""

    id: UUID
    ticket_id: UUID
    ticket_number: int
    ticket_title: str
    recipient_id: UUID
    recipient_name: str
    recipient_email: str
    kinds: list[str]
    attempts: int
    error: str | None = Field(description="Why it failed: the server's answer, or the error.")
    created_at: datetime
    failed_at: datetime | None


class FailedMailPage(BaseModel):
    """One page of failed mail, newest first; pass ``next_cursor`` back as ``cursor``."""

    items: list[FailedMail]
    next_cursor: str | None


class QueuedMail(BaseModel):
    """A failed mail queued to be sent again."""

    id: UUID
    status: Literal["pending"]
