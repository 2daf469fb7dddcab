"""Label shapes on the wire."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, StringConstraints

from ticketdesk.validation import RequestModel, no_nul

LabelName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=50, pattern=r"^[^,\x00]+$"),
]
Description = Annotated[str, StringConstraints(max_length=200), AfterValidator(no_nul)]
Color = Annotated[str, StringConstraints(to_lower=True, pattern=r"^#[0-9a-fA-F]{6}$")]


class Label(BaseModel):
    """A label that tickets can carry in their ``tags``."""

    id: UUID
    name: str
    color: str
    description: str
    created_at: datetime


class LabelCreate(RequestModel):
    """A new label."""

    name: LabelName
    color: Color = "#6b7280"
    description: Description = ""


class LabelUpdate(RequestModel):
    """A change to a label; renaming it renames it on every ticket."""

    name: LabelName | None = None
    color: Color | None = None
    description: Description | None = None
