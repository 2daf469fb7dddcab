"""Export shapes on the wire."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, StrictBool

from ticketdesk.saved_views.schemas import ViewFilters
from ticketdesk.users.schemas import UserRef
from ticketdesk.validation import RequestModel

ExportFormat = Literal["csv", "json"]
ExportStatus = Literal["queued", "running", "done", "failed"]


class ExportCreate(RequestModel):
    """Which tickets to export, in which format, with what."""

    format: ExportFormat = Field(
        description="csv: one row per ticket (comments as a JSON array in a `comments` "
        "column); json: JSON Lines, one object per ticket (comments nested)."
    )
    filters: ViewFilters = Field(
        default_factory=ViewFilters,
        description="The ticket list's filters, as a saved view holds them; none: every ticket.",
    )
    include_comments: StrictBool = False
    include_internal_notes: StrictBool = Field(
        default=False,
        description="Admins only, with include_comments: internal notes among the comments.",
    )


class Export(BaseModel):
    """An export and how far its job has come."""

    id: UUID
    format: ExportFormat
    filters: ViewFilters
    include_comments: bool
    include_internal_notes: bool
    status: ExportStatus = Field(
        description="queued, running (see rows_done of rows_total), done (download it) "
        "or failed (see error)."
    )
    rows_done: int = Field(description="Tickets written so far.")
    rows_total: int | None = Field(
        description="Tickets matching the filters when the job started; null while queued."
    )
    size_bytes: int | None = Field(description="The file's size, once done.")
    error: str | None = Field(description="Why it failed, when it did.")
    requested_by: UserRef
    filename: str = Field(description="The name the download is saved as.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None = Field(
        description="When the file and this record are removed: 7 days after the job ended."
    )
