"""Sign-in, sign-up and token shapes."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, Field

from ticketdesk.users.schemas import EmailAddress, Name, Password, Role
from ticketdesk.validation import no_nul


class Signup(BaseModel):
    """Self-service sign-up."""

    email: EmailAddress
    password: Password
    name: Name


class Login(BaseModel):
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


class TokenCreate(BaseModel):
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
