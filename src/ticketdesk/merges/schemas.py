"""Merge shapes on the wire."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from ticketdesk.users.schemas import UserRef
from ticketdesk.validation import RequestModel, no_nul


class MergeRequest(RequestModel):
    """Merge the ticket in the path, a duplicate, into the main ticket ``into``."""

    into: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
        AfterValidator(no_nul),
    ] = Field(description="The main ticket: its UUID or its number.")


class TicketPointer(BaseModel):
    """Another ticket, named."""

    id: UUID
    number: int
    title: str


class Merge(BaseModel):
    """A duplicate merged into a main ticket: what moved, and until when it can be undone."""

    id: UUID
    duplicate: TicketPointer
    main: TicketPointer
    merged_by: UserRef | None
    merged_at: datetime
    comments_moved: int = Field(
        description="Comments (replies and notes) moved to the main ticket."
    )
    attachments_moved: int = Field(description="Files moved to the main ticket.")
    followers_added: int = Field(
        description="Followers the main ticket gained: the duplicate's, and its submitter."
    )
    undo_until: datetime | None = Field(
        description="Until when the merge can be undone (null: no longer, or never)."
    )
    undone_at: datetime | None
