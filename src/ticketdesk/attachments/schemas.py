"""Attachment shapes on the wire."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel


class Attachment(BaseModel):
    """A file attached to a ticket; ``media_type`` is sniffed from its bytes."""

    id: UUID
    ticket_id: UUID
    uploader_id: UUID
    filename: str
    media_type: str
    size_bytes: int
    sha256: str
    created_at: datetime
