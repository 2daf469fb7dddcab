"""Webhook shapes on the wire: endpoints, their one-time secret, and the delivery log."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, StrictBool

from ticketdesk.validation import RequestModel

Event = Literal[
    "ticket.created",
    "ticket.assigned",
    "ticket.status_changed",
    "ticket.commented",
    "ticket.resolved",
    "ticket.closed",
    "ticket.escalated",
    "ticket.sla_breached",
    "ticket.merged",
    "ticket.unmerged",
]
Format = Literal["json", "slack", "discord"]
DeliveryStatus = Literal["pending", "succeeded", "failed", "cancelled"]


class WebhookCreate(RequestModel):
    """A new endpoint: where to send which events, in which shape."""

    name: str = Field(min_length=1, max_length=100)
    url: str = Field(
        min_length=1,
        max_length=2000,
        description="An http(s) URL on the public internet; redirects are not followed.",
    )
    events: list[Event] = Field(
        min_length=1,
        max_length=10,
        description="ticket.escalated and ticket.sla_breached are staff business: only a "
        "staff-only endpoint takes them.",
    )
    format: Format = Field(
        default="json",
        description="json: signed Standard Webhooks payloads; slack, discord: incoming-webhook "
        "messages for those chat services.",
    )
    is_active: StrictBool = True
    staff_only: StrictBool = Field(
        default=False, description="Whether only staff read what this endpoint receives."
    )
    include_internal: StrictBool = Field(
        default=False,
        description="Send changes about internal notes too (staff-only endpoints only).",
    )


class WebhookUpdate(RequestModel):
    """Fields to change; those not given keep their value."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    url: str | None = Field(default=None, min_length=1, max_length=2000)
    events: list[Event] | None = Field(
        default=None,
        min_length=1,
        max_length=10,
        description="ticket.escalated and ticket.sla_breached are staff business: only a "
        "staff-only endpoint takes them.",
    )
    format: Format | None = None
    is_active: StrictBool | None = None
    staff_only: StrictBool | None = None
    include_internal: StrictBool | None = None


class Webhook(BaseModel):
    """An endpoint as admins see it (its secret is never shown again)."""

    id: UUID
    name: str
    url: str
    events: list[Event]
    format: Format
    is_active: bool
    staff_only: bool
    include_internal: bool
    failing_since: datetime | None = Field(
        description="When a delivery last failed for good; cleared by the next success."
    )
    last_error: str | None
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(Webhook):
    """An endpoint just made, or its secret just replaced: the one time the secret is shown."""

    secret: str = Field(description="whsec_…: verify each delivery's webhook-signature with it.")


class WebhookList(BaseModel):
    """Every endpoint, by name."""

    items: list[Webhook]


class Delivery(BaseModel):
    """One message to an endpoint, and how its last attempt went."""

    id: UUID
    webhook_id: UUID
    message_id: str = Field(description="The webhook-id header; the same when redelivered.")
    event: Event
    status: DeliveryStatus
    attempts: int
    status_code: int | None
    duration_ms: int | None
    response_excerpt: str | None = Field(description="The start of the answer (at most 1 KB).")
    error: str | None
    created_at: datetime
    finished_at: datetime | None


class DeliveryPage(BaseModel):
    """One page of deliveries, newest first; pass ``next_cursor`` back as ``cursor``."""

    items: list[Delivery]
    next_cursor: str | None
