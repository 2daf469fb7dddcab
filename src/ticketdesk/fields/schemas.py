"""Custom field shapes on the wire: the definitions admins manage, and the values a
ticket carries under ``custom_fields`` (keyed by each field's ``key``)."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
)

from ticketdesk.validation import RequestModel, no_nul

FieldType = Literal["text", "number", "date", "select", "multi_select", "checkbox"]
# The ticket types, as tickets.schemas names them (this domain sits below tickets).
TicketType = Literal["bug", "feature", "support"]
TICKET_TYPES: list[TicketType] = ["bug", "feature", "support"]
SELECT_TYPES: frozenset[str] = frozenset({"select", "multi_select"})

MAX_OPTIONS = 50
MAX_TEXT = 1000

FieldKey = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$"),
    Field(description="Lower-case letters, digits and _, starting with a letter; never changes."),
]
FieldLabel = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=80),
    AfterValidator(no_nul),
]
Option = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(no_nul),
]
Options = Annotated[list[Option], Field(max_length=MAX_OPTIONS)]
TicketTypes = Annotated[list[TicketType], Field(max_length=3)]

# A value as a request writes it, checked against its field's type by the service:
# text and select a string, number a number, date "YYYY-MM-DD", multi_select a list of
# options, checkbox true or false; null clears it.
FieldValue = StrictStr | StrictInt | StrictFloat | StrictBool | list[StrictStr] | None
FieldValues = Annotated[
    dict[str, FieldValue],
    Field(
        max_length=100,
        description="Custom field values by key: text and select a string, number a "
        'number, date "YYYY-MM-DD", multi_select a list of options, checkbox true or '
        "false; null clears one.",
    ),
]


class CustomField(BaseModel):
    """A field tickets can carry."""

    id: UUID
    key: str
    label: str
    type: FieldType
    options: list[str] = Field(description="The choices of a select or multi_select.")
    staff_only: bool = Field(
        description="Seen and set by agents and admins only: never shown to submitters, "
        "nor sent to webhook endpoints that are not staff-only."
    )
    ticket_types: list[TicketType] = Field(description="The ticket types it is for.")
    required_for: list[TicketType] = Field(
        description="The ticket types that must give it when opened (and may not clear it)."
    )
    created_at: datetime
    updated_at: datetime


class CustomFieldCreate(RequestModel):
    """A new field; its key and type never change."""

    key: FieldKey
    label: FieldLabel
    type: FieldType
    options: Options = Field(default_factory=list)
    staff_only: StrictBool = False
    ticket_types: TicketTypes = Field(default_factory=lambda: list(TICKET_TYPES))
    required_for: TicketTypes = Field(default_factory=list)


class CustomFieldUpdate(RequestModel):
    """A change to a field; absent parts stay as they are."""

    label: FieldLabel | None = None
    options: Options | None = None
    staff_only: StrictBool | None = None
    ticket_types: TicketTypes | None = None
    required_for: TicketTypes | None = None
