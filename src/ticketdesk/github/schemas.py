"""GitHub shapes on the wire: links, and the webhook deliveries GitHub sends."""

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from ticketdesk.validation import RequestModel

SyncState = Literal["pending", "synced", "error"]


class GitHubLink(BaseModel):
    """A ticket's GitHub issue and how mirroring it is going (staff only)."""

    repo: str = Field(description="owner/name")
    issue_number: int | None = Field(description="Null while the issue is being created.")
    issue_url: str | None = Field(description="The issue on github.com, once confirmed.")
    state: SyncState = Field(
        description="pending: not yet mirrored; synced: the last sync succeeded; "
        "error: the last attempt failed (see last_error; it is retried)."
    )
    last_synced_at: datetime | None
    last_error: str | None


class GitHubLinkRequest(RequestModel):
    """Link an existing issue with ``issue_number``, or create one with ``create: true``."""

    issue_number: StrictInt | None = Field(default=None, ge=1, le=2_147_483_647)
    create: StrictBool = False

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.issue_number is None) == (not self.create):
            raise ValueError('send either {"issue_number": N} or {"create": true}')
        return self


WebhookOutcome = Literal["pong", "applied", "ignored", "duplicate"]


class WebhookResult(BaseModel):
    """What a delivery did: answered a ping, changed a ticket, nothing, or was seen before."""

    outcome: WebhookOutcome


# What a delivery's payload must look like, reduced to the fields ticketdesk reads.
# Strict: a number must be a JSON integer ("1", 1.0 and 1e999 are refused), a string a
# JSON string; bounds are those of the columns the values go to. Text GitHub limits is
# given room well beyond that limit (a title four times its 256 characters, a comment
# four times its 65,536, a login 2.5 times its 39), so that nothing GitHub lets through
# is refused here for counting characters another way. An issue's body is only searched
# for the hidden block naming a ticket, never stored, so any string (or null) is taken.
INTEGER_MAX = 2_147_483_647
BIGINT_MAX = 9_223_372_036_854_775_807


def _storable(value: str) -> str:
    # json.loads lets a lone surrogate ("\ud800") through, and PostgreSQL stores neither
    # it nor NUL: refused here rather than failing when the row is written.
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError("contains a lone surrogate") from None
    return value


Text = Annotated[str, AfterValidator(_storable)]
Login = Annotated[Text, Field(max_length=100)]
Title = Annotated[Text, Field(max_length=1024)]
CommentBody = Annotated[Text, Field(max_length=4 * 65536)]
Action = Annotated[Text, Field(max_length=50)]


class _Payload(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, populate_by_name=True)


class GitHubUser(_Payload):
    """The author of a comment or the sender of a change."""

    login: Login


class GitHubRepository(_Payload):
    """The repository a delivery is about."""

    full_name: Annotated[Text, Field(max_length=200)]


class GitHubIssue(_Payload):
    """The issue a delivery is about."""

    number: Annotated[int, Field(ge=1, le=INTEGER_MAX)]
    title: Title
    body: str | None
    html_url: Annotated[Text, Field(max_length=2048)]
    state_reason: Action | None = None


class GitHubComment(_Payload):
    """A comment on an issue."""

    id: Annotated[int, Field(ge=1, le=BIGINT_MAX)]
    body: CommentBody | None
    # Null when GitHub no longer knows the author (see the delivery's sender).
    user: GitHubUser | None


class PreviousTitle(_Payload):
    """What an issue was called before it was renamed."""

    previous: Title = Field(alias="from")


class IssueChanges(_Payload):
    """What an ``edited`` delivery changed (only the title is read)."""

    title: PreviousTitle | None = None


class PingPayload(_Payload):
    """``ping``: nothing in it is read, but it must be a JSON object."""


class IssuesPayload(_Payload):
    """``issues``: an issue was opened, closed, reopened, edited …"""

    action: Action
    repository: GitHubRepository
    issue: GitHubIssue
    sender: GitHubUser
    changes: IssueChanges | None = None


class IssueCommentPayload(_Payload):
    """``issue_comment``: a comment was created, edited or deleted."""

    action: Action
    repository: GitHubRepository
    issue: GitHubIssue
    comment: GitHubComment
    sender: GitHubUser


WebhookPayload = PingPayload | IssuesPayload | IssueCommentPayload
