"""GitHub link shapes on the wire."""

from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator

SyncState = Literal["pending", "synced", "error"]


class GitHubLink(BaseModel):
    """A ticket's GitHub issue and how mirroring it is going (staff only)."""

    repo: str = Field(description="owner/name")
    issue_number: int | None = Field(description="Null while the issue is being created.")
    issue_url: str | None = Field(description="The issue on github.com, once confirmed.")
    state: SyncState = Field(
        description="pending: not yet mirrored; synced: the last sync succeeded; "
        "error: the last attempt failed (see last_error; it is retried)."
    )
    last_synced_at: datetime | None
    last_error: str | None


class GitHubLinkRequest(BaseModel):
    """Link an existing issue with ``issue_number``, or create one with ``create: true``."""

    issue_number: int | None = Field(default=None, ge=1, le=2_147_483_647)
    create: bool = False

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.issue_number is None) == (not self.create):
            raise ValueError('send either {"issue_number": N} or {"create": true}')
        return self


WebhookOutcome = Literal["pong", "applied", "ignored", "duplicate"]


class WebhookResult(BaseModel):
    """What a delivery did: answered a ping, changed a ticket, nothing, or was seen before."""

    outcome: WebhookOutcome
