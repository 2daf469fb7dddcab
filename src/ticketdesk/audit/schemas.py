"""Audit trail shapes on the wire."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

ExportFormat = Literal["csv", "json"]


class AuditEntry(BaseModel):
    """One administrative action, as it was recorded."""

    id: UUID
    at: datetime = Field(description="The time of the action's transaction.")
    actor_id: UUID | None = Field(description="Null: the system, or the account's gone.")
    actor_email: str | None = Field(description="The actor's address when they acted.")
    actor_name: str | None = Field(description="The actor's name when they acted.")
    client_address: str | None = Field(
        description="The client's address, as the trusted proxies forwarded it."
    )
    action: str = Field(description="Dotted: user.role_changed, webhook.created …")
    target_type: str
    target_id: str | None
    before: dict[str, Any] | None = Field(
        description="The target before the action; secrets show as [redacted]."
    )
    after: dict[str, Any] | None = Field(
        description="The target after the action; secrets show as [redacted]."
    )


class AuditPage(BaseModel):
    """One page of the trail, newest first; pass ``next_cursor`` back as ``cursor``."""

    items: list[AuditEntry]
    next_cursor: str | None
