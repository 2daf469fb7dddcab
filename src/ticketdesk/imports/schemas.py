"""Import shapes on the wire: an uploaded file, the mapping of its columns, and what a
dry run or an applied import reports."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from ticketdesk.tickets.schemas import Priority, Status, TicketType
from ticketdesk.validation import RequestModel

# The ticket fields a column may fill; a custom field is "cf.<key>".
TargetField = Literal[
    "title",
    "description",
    "type",
    "priority",
    "status",
    "submitter_email",
    "submitter_name",
    "assignee_email",
    "labels",
    "created_at",
    "resolved_at",
    "external_id",
]
TARGET_FIELDS: frozenset[str] = frozenset(TargetField.__args__)  # type: ignore[attr-defined]

Word = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class ValueMappings(RequestModel):
    """What the file's words mean, for the fields with a fixed set of values; words not
    listed must be the value itself (in any case)."""

    type: dict[Word, TicketType] = Field(default_factory=dict, max_length=200)
    priority: dict[Word, Priority] = Field(default_factory=dict, max_length=200)
    status: dict[Word, Status] = Field(default_factory=dict, max_length=200)


class ImportMapping(RequestModel):
    """Which column fills which ticket field, and how to read the values."""

    columns: dict[Word, Word | None] = Field(
        max_length=200,
        description="Each column of the file (by its header) to a ticket field: title, "
        "description, type, priority, status, submitter_email, submitter_name, "
        "assignee_email, labels, created_at, resolved_at, external_id, or cf.<key> for a "
        "custom field; null or left out: the column is not imported. title, description "
        "and submitter_email must be mapped.",
    )
    label_separator: Annotated[str, StringConstraints(min_length=1, max_length=3)] = Field(
        default=",", description="What separates labels (and multi-select options) in a cell."
    )
    values: ValueMappings = Field(default_factory=ValueMappings)
    default_type: TicketType = Field(
        default="support", description="The type of the tickets whose row gives none."
    )


class ImportUpload(BaseModel):
    """An uploaded file: its columns and its first rows, to map them."""

    id: UUID
    filename: str
    columns: list[str]
    sample: list[list[str]] = Field(description="The file's first rows after the header.")
    row_count: int
    created_at: datetime
    applied_at: datetime | None
    result: "ImportResult | None"


class RowError(BaseModel):
    """Why one row would not import."""

    row: int = Field(description="1 = the first row after the header.")
    field: str = Field(description="The ticket field, or cf.<key>, or row for the row itself.")
    column: str | None = Field(description="The file's column the field is read from.")
    message: str


class PreviewTicket(BaseModel):
    """A row as the mapping reads it."""

    row: int
    title: str
    description: str
    type: str
    priority: str
    status: str
    submitter_email: str
    assignee_email: str | None
    labels: list[str]
    created_at: datetime | None
    external_id: str | None


class DryRun(BaseModel):
    """What importing the file with this mapping would do; nothing is written."""

    row_count: int
    would_create: int = Field(description="Tickets the import would create.")
    already_imported: int = Field(
        description="Rows whose external id an earlier import brought in: they are skipped."
    )
    new_submitters: int = Field(description="Accounts the import would create for submitters.")
    errors: list[RowError] = Field(description="Every row that would fail, and why.")
    errors_truncated: bool = Field(description="Whether more errors exist than are listed.")
    preview: list[PreviewTicket] = Field(description="The first rows, as mapped.")


class ImportResult(BaseModel):
    """What an applied import wrote."""

    created: int
    already_imported: int
    new_submitters: int
    first_number: int | None
    last_number: int | None


class ImportedTicketRef(BaseModel):
    """A ticket an import created."""

    id: UUID
    number: int
    title: str
    row: int
    external_id: str | None
