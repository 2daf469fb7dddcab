"""Ticket shapes on the wire. Field names follow the seed (``user_id``,
``assigned_to_user_id``, ``github_issue_number``)."""

import json
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Path
from pydantic import AfterValidator, BaseModel, Field, JsonValue, StringConstraints, model_validator

from ticketdesk.fields.schemas import FieldValues
from ticketdesk.labels.schemas import LabelName
from ticketdesk.teams.schemas import TeamRef
from ticketdesk.users.schemas import EmailAddress, Name, UserRef
from ticketdesk.validation import RequestModel, no_nul

TicketType = Literal["bug", "feature", "support"]
Priority = Literal["low", "medium", "high", "critical"]
Status = Literal["open", "in_progress", "waiting", "resolved", "closed"]
SortKey = Literal[
    "created",
    "-created",
    "updated",
    "-updated",
    "priority",
    "-priority",
    "sla_due",
    "-sla_due",
    "relevance",
]
# A custom field's key after "cf." (descending with "-"): tickets without a value last.
CustomFieldSort = Annotated[str, StringConstraints(pattern=r"^-?cf\.[a-z][a-z0-9_]{0,39}$")]
ListSort = SortKey | CustomFieldSort
SlaState = Literal["ok", "at_risk", "breached"]

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


class OnBehalfOf(RequestModel):
    """The customer a ticket is opened for: an account by ``user_id``, or an ``email``
    address: the account that has it, else a new one (named ``name``) invited by mail."""

    user_id: UUID | None = None
    email: EmailAddress | None = None
    name: Name | None = Field(
        default=None, description="The name of a new customer (an address without an account)."
    )

    @model_validator(mode="after")
    def _one_customer(self) -> "OnBehalfOf":
        if (self.user_id is None) == (self.email is None):
            raise ValueError("give either user_id or email")
        if self.user_id is not None and self.name is not None:
            raise ValueError("name goes with email, for a new customer")
        return self


class TicketCreate(RequestModel):
    """A new ticket. Only staff may set ``tags`` or open it ``on_behalf_of`` a customer."""

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
    on_behalf_of: OnBehalfOf | None = Field(
        default=None,
        description="Staff only: the customer this ticket is for (on the phone, in a chat, at "
        "the desk), who becomes its submitter and is mailed as on any new ticket; a new "
        "address gets an account and an invitation to choose a password (this needs mail).",
    )
    custom_fields: FieldValues = Field(default_factory=dict)


class TicketUpdate(RequestModel):
    """A change to some of a ticket's fields; absent fields stay as they are."""

    title: Title | None = None
    description: Description | None = None
    type: TicketType | None = None
    priority: Priority | None = None
    status: Status | None = None
    tags: Tags | None = None
    metadata: Metadata | None = None
    custom_fields: FieldValues | None = Field(
        default=None, description="The custom fields to change; fields not named stay as they are."
    )
    team_id: UUID | None = Field(
        default=None, description="Route the ticket to this team, or null for none (staff)."
    )


class Assignment(RequestModel):
    """Assign to an agent, or ``null`` to unassign; and, if given, to a team (or none)."""

    assignee_id: UUID | None
    team_id: UUID | None = Field(
        default=None, description="A team, or null for none; absent: the team stays."
    )


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
    team_id: UUID | None = Field(
        description="The team the ticket is routed to (staff only: always null for submitters)."
    )
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
    sla_state: SlaState | None = Field(
        description="Where the ticket stands against its SLA policy's targets: at_risk once "
        "75 % of a target's business time is used; null: no policy applies (staff only: "
        "always null for submitters)."
    )
    sla_due_at: datetime | None = Field(
        description="When the nearest SLA target not yet met is due (in the past: overdue); "
        "null while its clock stands still with time left, or when none is left to meet "
        "(staff only)."
    )
    merged_into_id: UUID | None = Field(
        default=None,
        description="The ticket this duplicate was merged into (replies go there), or null.",
    )


class TicketSummary(Ticket):
    """A ticket in a list, with the people named."""

    submitter: UserRef
    assigned_to: UserRef | None
    team: TeamRef | None = Field(description="The team, named (staff only).")
    transitions: list[Status] = Field(
        description="The statuses the caller may move this ticket to now, in flow order."
    )
    custom_fields: dict[str, str | int | float | bool | list[str]] = Field(
        default_factory=dict,
        description="The ticket's custom field values by key (fields without a value are "
        "absent; staff-only fields for agents and admins only).",
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
    team: str | None = None
    submitter: UUID | None = None
    tags: list[str] = Field(default_factory=list)
    metadata: Metadata | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    q: str | None = None
    customer_replied: bool | None = None
    custom_fields: dict[str, list[str]] = Field(
        default_factory=dict, description="cf.<key>: any of these values."
    )
    sla: list[SlaState] = Field(default_factory=list)


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
