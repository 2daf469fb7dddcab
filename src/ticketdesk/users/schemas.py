"""User shapes on the wire."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from ticketdesk.users.passwords import MAX_LENGTH, MIN_DISTINCT_CHARACTERS, MIN_LENGTH
from ticketdesk.validation import RequestModel, no_nul

Role = Literal["user", "agent", "admin"]
STAFF_ROLES: frozenset[str] = frozenset({"agent", "admin"})

Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(no_nul),
]
# The service refuses besides what guessers try first (``users.passwords``): 422
# password_too_common or password_too_simple.
Password = Annotated[
    str,
    Field(
        min_length=MIN_LENGTH,
        max_length=MAX_LENGTH,
        description=f"At least {MIN_LENGTH} characters, at least {MIN_DISTINCT_CHARACTERS} "
        "of them different, not only spaces, and not on the list of common and leaked "
        "passwords.",
    ),
]
# Checked as an address by the service, which knows the deployment's internal domains.
EmailAddress = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=320),
    AfterValidator(no_nul),
    Field(json_schema_extra={"format": "email"}),
]


class User(BaseModel):
    """A person with an account."""

    id: UUID
    email: str
    name: str
    role: Role
    is_active: bool
    is_away: bool = Field(
        description="Staff away from their desk: round-robin assignment passes them over."
    )
    created_at: datetime
    invitation_pending: bool = Field(
        description="Invited by mail and has not yet chosen a password (cannot sign in yet)."
    )


class UserRef(BaseModel):
    """A person as shown next to a ticket, comment or event."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    role: Role
    # Only staff see e-mail addresses of other people.
    email: str | None = None


class UserCreate(RequestModel):
    """An admin creating an account."""

    email: EmailAddress
    name: Name
    password: Password
    role: Role = "user"


class UserUpdate(RequestModel):
    """An admin changing someone's role, name, access or whether they are away."""

    name: Name | None = None
    role: Role | None = None
    is_active: StrictBool | None = None
    is_away: StrictBool | None = None


class Away(RequestModel):
    """Whether the signed-in agent is away: round-robin assignment passes them over."""

    away: StrictBool


class UserPage(BaseModel):
    """One page of users."""

    items: list[User]
    next_cursor: str | None
