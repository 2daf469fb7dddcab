"""Comment shapes on the wire."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, Field, StrictBool, StringConstraints

from ticketdesk.users.schemas import UserRef
from ticketdesk.validation import RequestModel, no_nul

Body = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=65536),
    AfterValidator(no_nul),
]


class CommentCreate(RequestModel):
    """A reply, or with ``is_internal`` a note only staff can read."""

    comment: Body = Field(description="Markdown.")
    is_internal: StrictBool = False


class Comment(BaseModel):
    """One message in a ticket's conversation."""

    id: UUID
    ticket_id: UUID
    author: UserRef
    body: str
    is_internal: bool
    source: Literal["ticketdesk", "github"] = "ticketdesk"
    github_login: str | None = None
    created_at: datetime
    updated_at: datetime
