"""Inbound mail shapes on the wire (admins only)."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

InboundStatus = Literal["posted", "ignored", "refused", "failed", "dismissed"]


class InboundMail(BaseModel):
    """A message that arrived by mail, and what became of it."""

    id: int
    message_id: str = Field(description="Its Message-ID (empty when it had none), to find it.")
    source: Literal["imap", "pipe"] = Field(description="Read from the mailbox, or piped in.")
    sender: str
    subject: str
    status: InboundStatus = Field(
        description="posted (a comment or ticket was made), ignored (an auto-reply or bounce), "
        "refused (against the rules, e.g. a stranger), failed (an error; may be retried), "
        "dismissed (a failed one let go)."
    )
    reason: str | None = Field(description="Why it was ignored, refused or failed.")
    ticket_id: UUID | None = Field(description="The ticket it was posted to or opened.")
    attempts: int
    received_at: datetime
    processed_at: datetime


class InboundMailPage(BaseModel):
    """One page of inbound mail, newest first; pass ``next_cursor`` back as ``cursor``."""

    items: list[InboundMail]
    next_cursor: str | None
