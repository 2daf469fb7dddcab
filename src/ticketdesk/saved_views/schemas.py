"""Saved view shapes on the wire."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    Field,
    StrictBool,
    StringConstraints,
)

from ticketdesk.labels.schemas import LabelName
from ticketdesk.tickets.schemas import (
    ListSort,
    Metadata,
    Priority,
    SlaState,
    Status,
    TicketType,
)
from ticketdesk.validation import RequestModel, no_nul, plain_date_time

Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=60),
    AfterValidator(no_nul),
]


def _assignee(value: str) -> str:
    if value in ("me", "none"):
        return value
    try:
        return str(UUID(value))
    except ValueError:
        raise ValueError("must be me, none or a user id") from None


Assignee = Annotated[str, AfterValidator(_assignee)]


def _team(value: str) -> str:
    if value in ("mine", "none"):
        return value
    try:
        return str(UUID(value))
    except ValueError:
        raise ValueError("must be mine, none or a team id") from None


Team = Annotated[str, AfterValidator(_team)]
# What follows ``cf.`` in the list's query: a field's key, or a key and a bound
# (``severity``, ``due.from``); the values as the query gives them.
CustomFieldParam = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}(\.(from|to))?$")
]
CustomFieldValue = Annotated[str, StringConstraints(max_length=200), AfterValidator(no_nul)]


def _date_time_text(value: object) -> object:
    # As the list's query takes them: RFC 3339 with the offset, not seconds since 1970.
    if value is not None and not isinstance(value, str):
        raise ValueError("must be a date-time with its offset, such as 2025-01-02T12:00:00Z")
    return plain_date_time(value)


DateTime = Annotated[AwareDatetime, BeforeValidator(_date_time_text)]
SearchText = Annotated[str, StringConstraints(max_length=200), AfterValidator(no_nul)]


class ViewFilters(RequestModel):
    """A ticket list's filters, named and typed as ``GET /tickets`` takes them in its query
    (``metadata`` as the object itself, not JSON text)."""

    status: list[Status] = Field(default_factory=list)
    type: list[TicketType] = Field(default_factory=list)
    priority: list[Priority] = Field(default_factory=list)
    assignee: Assignee | None = Field(
        default=None, description="me (whoever looks at the view), none, or a user id."
    )
    submitter: UUID | None = None
    tags: Annotated[list[LabelName], Field(max_length=20)] = Field(default_factory=list)
    metadata: Metadata | None = None
    created_after: DateTime | None = None
    created_before: DateTime | None = None
    updated_after: DateTime | None = None
    updated_before: DateTime | None = None
    q: SearchText | None = None
    customer_replied: StrictBool | None = None
    team: Team | None = Field(
        default=None, description="mine (any team whoever looks is in), none, or a team id."
    )
    sla: list[SlaState] = Field(default_factory=list)
    custom_fields: Annotated[
        dict[CustomFieldParam, Annotated[list[CustomFieldValue], Field(min_length=1)]],
        Field(max_length=20),
    ] = Field(
        default_factory=dict,
        description='`cf.<key>` filters by what follows `cf.`: `{"severity": ["major"], '
        '"due.from": ["2025-01-01"]}`; each field must exist when the view is saved.',
    )


class SavedViewCreate(RequestModel):
    """A named view of triage: its filters and sort; ``shared`` lists it for all staff."""

    name: Name
    shared: StrictBool = False
    filters: ViewFilters = Field(default_factory=ViewFilters)
    sort: ListSort = "-created"


class SavedViewUpdate(RequestModel):
    """A change to a saved view; absent fields stay as they are."""

    name: Name | None = None
    shared: StrictBool | None = None
    filters: ViewFilters | None = None
    sort: ListSort | None = None


class SavedView(BaseModel):
    """A saved view, with how many open tickets it lists now."""

    id: UUID
    name: str
    shared: bool
    owner_id: UUID
    mine: bool = Field(description="Whether the caller saved it (and may change it).")
    filters: ViewFilters
    sort: ListSort
    open_count: int = Field(
        description="How many of the tickets it lists are open, in progress or waiting, "
        "counted up to 1,000 (see `open_count_capped`)."
    )
    open_count_capped: bool = Field(
        description="True when there are more than 1,000: show it as 1,000+."
    )
    counted_at: datetime
    created_at: datetime
    updated_at: datetime
