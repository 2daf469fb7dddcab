"""Ticket shapes on the wire. Field names follow the seed (``user_id``,
``assigned_to_user_id``, ``github_issue_number``)."""

import json
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Path
from pydantic import AfterValidator, BaseModel, Field, JsonValue, StringConstraints

from ticketdesk.labels.schemas import LabelName
from ticketdesk.users.schemas import UserRef
from ticketdesk.validation import RequestModel, no_nul

TicketType = Literal["bug", "feature", "support"]
Priority = Literal["low", "medium", "high", "critical"]
Status = Literal["open", "in_progress", "waiting", "resolved", "closed"]
SortKey = Literal[
    "created", "-created", "updated", "-updated", "priority", "-priority", "relevance"
]

MAX_METADATA_BYTES = 16 * 1024

# Every route about one ticket names it in its path like this.
TicketRef = Annotated[str, Path(description="The ticket's UUID or its number.", max_length=64)]


def _storable_metadata(value: dict[str, JsonValue]) -> dict[str, JsonValue]:
    # What PostgreSQL's jsonb refuses: NaN and infinities, NUL characters, lone surrogates.
    try:
        encoded = json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        raise ValueError("must be plain JSON: no NaN, infinities or broken text") from None
    except RecursionError:
        raise ValueError("is nested too deeply") from None
    if len(encoded) > MAX_METADATA_BYTES:
        raise ValueError(f"must be at most {MAX_METADATA_BYTES} bytes as JSON")
    if b"\\u0000" in encoded:
        raise ValueError("must not contain NUL characters")
    return value


Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=10, max_length=200),
    AfterValidator(no_nul),
]
Description = Annotated[
    str,
    StringConstraints(min_length=20, max_length=65536),
    AfterValidator(no_nul),
]
Metadata = Annotated[dict[str, JsonValue], AfterValidator(_storable_metadata)]
Tags = Annotated[list[LabelName], Field(max_length=20)]


class TicketCreate(RequestModel):
    """A new ticket. Only staff may set ``tags``."""

    type: TicketType
    priority: Priority = "medium"
    title: Title
    description: Description = Field(description="Markdown, at least 20 characters.")
    metadata: Metadata = Field(
        default_factory=dict,
        description="The reporting client's environment (app version, browser, OS) "
        "and custom fields.",
    )
    tags: Tags = Field(default_factory=list)


class TicketUpdate(RequestModel):
    """A change to some of a ticket's fields; absent fields stay as they are."""

    title: Title | None = None
    description: Description | None = None
    type: TicketType | None = None
    priority: Priority | None = None
    status: Status | None = None
    tags: Tags | None = None
    metadata: Metadata | None = None


class Assignment(RequestModel):
    """Assign to an agent, or ``null`` to unassign."""

    assignee_id: UUID | None


class Ticket(BaseModel):
    """A ticket's own fields."""

    id: UUID
    number: int
    user_id: UUID
    type: TicketType
    priority: Priority
    status: Status
    title: str
    description: str
    assigned_to_user_id: UUID | None
    github_issue_number: int | None
    tags: list[str]
    metadata: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    customer_replied_at: datetime | None = Field(
        description="When the submitter's oldest reply that staff have not answered arrived; "
        "null once staff reply publicly (staff only: always null for submitters)."
    )
    merged_into_id: UUID | None = Field(
        default=None,
        description="The ticket this duplicate was merged into (replies go there), or null.",
    )


class TicketSummary(Ticket):
    """A ticket in a list, with the people named."""

    submitter: UserRef
    assigned_to: UserRef | None
    transitions: list[Status] = Field(
        description="The statuses the caller may move this ticket to now, in flow order."
    )
    snippet: str | None = Field(
        default=None,
        description="Only in a search (q): where it matched, as HTML — the text escaped, "
        "each match in <mark>…</mark>, nothing else.",
    )


class TicketPage(BaseModel):
    """One page of tickets; pass ``next_cursor`` back as ``cursor`` for the next."""

    items: list[TicketSummary]
    next_cursor: str | None


class TicketFilters(BaseModel):
    """What a ticket list may be narrowed by."""

    status: list[Status] = Field(default_factory=list)
    type: list[TicketType] = Field(default_factory=list)
    priority: list[Priority] = Field(default_factory=list)
    assignee: str | None = None
    submitter: UUID | None = None
    tags: list[str] = Field(default_factory=list)
    metadata: Metadata | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    q: str | None = None
    customer_replied: bool | None = None


BulkAction = Literal["assign", "status", "priority", "add_label", "close"]


class BulkRequest(RequestModel):
    """One action applied to many tickets, all or nothing."""

    ticket_ids: Annotated[list[UUID], Field(min_length=1, max_length=100)]
    action: BulkAction
    value: str | None = Field(
        default=None,
        description="assign: an agent's id or null; status/priority: the new value; "
        "add_label: a label name; close: unused.",
    )


class BulkResult(BaseModel):
    """The tickets as they are after a bulk action."""

    items: list[Ticket]
