"""Sign-in, sign-up and token shapes."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, StrictBool

from ticketdesk.users.schemas import EmailAddress, Name, Password, Role
from ticketdesk.validation import RequestModel, no_nul


class Signup(RequestModel):
    """Self-service sign-up."""

    email: EmailAddress
    password: Password
    name: Name


class Login(RequestModel):
    """E-mail and password."""

    email: Annotated[str, Field(max_length=320), AfterValidator(no_nul)]
    password: str = Field(max_length=200)


class Me(BaseModel):
    """The signed-in person, with the token to echo in ``X-CSRF-Token``."""

    id: UUID
    email: str
    name: str
    role: Role
    csrf_token: str | None = Field(
        description="Send as X-CSRF-Token on unsafe requests made with the session cookie."
    )


# read: GET and HEAD only; write: whatever its owner may do.
TokenScope = Literal["read", "write"]
# As GitHub's fine-grained tokens: at most a year (and a day) ahead.
MAX_TOKEN_LIFETIME = timedelta(days=366)


def _token_expiry(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    now = datetime.now(UTC)
    if value <= now:
        raise ValueError("must be in the future")
    if value > now + MAX_TOKEN_LIFETIME:
        raise ValueError(f"must be at most {MAX_TOKEN_LIFETIME.days} days ahead")
    return value


class TokenCreate(RequestModel):
    """A new personal access token."""

    name: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(no_nul)]
    scope: TokenScope = Field(
        default="write",
        description="read: the token may only make GET and HEAD requests (anything else "
        "is a 403 read_only_token); write: anything its owner may do.",
    )
    expires_at: Annotated[AwareDatetime | None, AfterValidator(_token_expiry)] = Field(
        default=None,
        description="When the token stops working: in the future, at most 366 days ahead; "
        "null for never. A token made with another token may not outlive it.",
    )


class Token(BaseModel):
    """A personal access token, without its secret."""

    id: UUID
    name: str
    prefix: str
    scope: TokenScope
    expires_at: datetime | None = Field(description="Null: it never expires. Past: expired.")
    parent_id: UUID | None = Field(
        description="The token this one was made with: revoking that one revokes this one."
    )
    created_at: datetime
    last_used_at: datetime | None


class NewToken(Token):
    """A token just created: the secret is shown this once."""

    token: str


class SignOutEverywhere(RequestModel):
    """Ending every session of the caller, and optionally their tokens too."""

    revoke_tokens: StrictBool = Field(
        default=False,
        description="Also revoke every personal access token (scripts using them stop).",
    )


class SignedOutEverywhere(BaseModel):
    """What signing out everywhere ended."""

    sessions_ended: int
    tokens_revoked: int


# The secret of a mailed link: 43 URL-safe characters; a little slack for future lengths.
LinkToken = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(no_nul)]
# An address to mail a link to, if it has an account: checked only for length, since the
# answer is the same for any address.
AnyAddress = Annotated[str, Field(min_length=1, max_length=320), AfterValidator(no_nul)]


class LinkRequest(RequestModel):
    """Someone asking for a link at an address (a password reset, a new confirmation)."""

    email: AnyAddress


class PasswordReset(RequestModel):
    """A new password, with the secret of a reset link."""

    token: LinkToken
    password: Password


class InvitationAcceptance(RequestModel):
    """The invited person's chosen password, with the secret of their invitation link."""

    token: LinkToken
    password: Password


class EmailConfirmation(RequestModel):
    """The secret of a link that confirms an address."""

    token: LinkToken


class PasswordChange(RequestModel):
    """A new password for the signed-in person, who proves it is them with the current one."""

    current_password: str = Field(max_length=200)
    new_password: Password


class MeUpdate(RequestModel):
    """What people change about themselves."""

    name: Name


class Invitation(RequestModel):
    """An admin inviting someone: they get a mail with a link to choose their password."""

    email: EmailAddress
    name: Name
    role: Role = "user"


class Accepted(BaseModel):
    """A request taken in; what happens next happens by mail."""

    detail: str


class ConfirmationSent(BaseModel):
    """A sign-up that must follow a mailed link before the account can sign in."""

    email: str
    detail: str
