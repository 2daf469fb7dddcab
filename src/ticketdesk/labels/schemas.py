"""Label shapes on the wire."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

LabelName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=50, pattern=r"^[^,\x00]+$"),
]
Color = Annotated[str, StringConstraints(to_lower=True, pattern=r"^#[0-9a-fA-F]{6}$")]


class Label(BaseModel):
    """A label that tickets can carry in their ``tags``."""

    id: UUID
    name: str
    color: str
    description: str
    created_at: datetime


class LabelCreate(BaseModel):
    """A new label."""

    name: LabelName
    color: Color = "#6b7280"
    description: str = Field(default="", max_length=200)


class LabelUpdate(BaseModel):
    """A change to a label; renaming it renames it on every ticket."""

    name: LabelName | None = None
    color: Color | None = None
    description: str | None = Field(default=None, max_length=200)
