"""Team shapes on the wire."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from ticketdesk.users.schemas import Role
from ticketdesk.validation import RequestModel, no_nul

TeamName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(no_nul),
]
MemberIds = Annotated[
    list[UUID],
    Field(max_length=200, description="The members: active agents and admins."),
]


class TeamMember(BaseModel):
    """A member of a team, as staff see them."""

    id: UUID
    name: str
    email: str
    role: Role
    is_active: bool
    is_away: bool


class Team(BaseModel):
    """A group of staff that tickets can be routed to."""

    id: UUID
    name: str
    members: list[TeamMember]
    created_at: datetime


class TeamRef(BaseModel):
    """A team as shown next to a ticket or event."""

    id: UUID
    name: str


class TeamCreate(RequestModel):
    """A new team."""

    name: TeamName
    member_ids: MemberIds = Field(default_factory=list)


class TeamUpdate(RequestModel):
    """A change to a team: a new name, or its whole list of members."""

    name: TeamName | None = None
    member_ids: MemberIds | None = None
