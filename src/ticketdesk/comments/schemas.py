"""Comment shapes on the wire."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StrictBool,
    StringConstraints,
    computed_field,
)

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
    body: str = Field(
        description="The former name of `comment`: the same text, kept for older clients.",
        json_schema_extra={"deprecated": True},
    )
    is_internal: bool
    source: Literal["ticketdesk", "github"] = "ticketdesk"
    github_login: str | None = None
    created_at: datetime
    updated_at: datetime

    @computed_field(description="Markdown: the text, by the name it is written with.")  # type: ignore[prop-decorator]
    @property
    def comment(self) -> str:
        """The comment's text, as ``CommentCreate`` names it (the seed's name)."""
        return self.body
