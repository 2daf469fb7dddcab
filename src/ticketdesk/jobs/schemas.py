"""Job shapes on the wire (admins only)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class Job(BaseModel):
    """A background job and, if an attempt failed, the last error."""

    id: int
    task_name: str
    queue_name: str
    args: dict[str, Any]
    status: str = Field(description="todo, doing, succeeded, failed, cancelled or aborted.")
    attempts: int = Field(description="Attempts made so far.")
    error: str | None = Field(description="How the last failed attempt ended.")
    failed_at: datetime | None


class JobPage(BaseModel):
    """One page of jobs, newest first; pass ``next_cursor`` back as ``cursor``."""

    items: list[Job]
    next_cursor: str | None
