"""Sign-in, sign-up and token shapes."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, Field

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


class TokenCreate(RequestModel):
    """A new personal access token."""

    name: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(no_nul)]


class Token(BaseModel):
    """A personal access token, without its secret."""

    id: UUID
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


class NewToken(Token):
    """A token just created: the secret is shown this once."""

    token: str


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
