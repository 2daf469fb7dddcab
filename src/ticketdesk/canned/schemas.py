"""Canned reply shapes on the wire."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, Field, StrictBool, StringConstraints

from ticketdesk.comments.schemas import Body as CommentBody
from ticketdesk.labels.schemas import LabelName
from ticketdesk.tickets.schemas import Status
from ticketdesk.validation import RequestModel, no_nul

Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(no_nul),
]
TemplateBody = Annotated[
    str,
    StringConstraints(min_length=1, max_length=20000),
    AfterValidator(no_nul),
]
Scope = Literal["shared", "personal"]
AddLabels = Annotated[list[LabelName], Field(max_length=20)]

_BODY_DOC = (
    "Markdown with variables: `{{ ticket.number }}`, `{{ ticket.title }}`, "
    "`{{ submitter.name }}`, `{{ agent.name }}` (the agent replying). Nothing else may be "
    "used in `{{ }}`; other text is kept as written."
)


class CannedReplyCreate(RequestModel):
    """A new canned reply: ``shared`` (admins) or ``personal`` (the caller's own)."""

    title: Title
    body: TemplateBody = Field(description=_BODY_DOC)
    scope: Scope = "personal"
    set_status: Status | None = Field(
        default=None, description="A status the ticket moves to with the reply."
    )
    add_labels: AddLabels = Field(
        default_factory=list, description="Labels the ticket gets with the reply."
    )


class CannedReplyUpdate(RequestModel):
    """A change to a canned reply; absent fields stay. ``set_status: null`` removes it."""

    title: Title | None = None
    body: TemplateBody | None = Field(default=None, description=_BODY_DOC)
    set_status: Status | None = None
    add_labels: AddLabels | None = None


class CannedReply(BaseModel):
    """A saved reply staff insert from the reply box."""

    id: UUID
    title: str
    body: str
    scope: Scope
    set_status: Status | None
    add_labels: list[str]
    created_at: datetime
    updated_at: datetime


class RenderedReply(BaseModel):
    """A canned reply filled in for one ticket, for the agent to edit before sending."""

    canned_reply_id: UUID
    body: str
    set_status: Status | None
    add_labels: list[str]


class CannedReplySend(RequestModel):
    """The reply as the agent edited it; the canned reply's actions are applied with it."""

    comment: CommentBody = Field(description="Markdown.")
    is_internal: StrictBool = False
