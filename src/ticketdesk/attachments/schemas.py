"""Attachment shapes on the wire."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, computed_field


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

    @computed_field  # type: ignore[prop-decorator]
    @property
    def download_url(self) -> str:
        """Where the file's bytes are served (as a download, never inline)."""
        return f"/api/v1/tickets/{self.ticket_id}/attachments/{self.id}/download"


class StoredAttachment(Attachment):
    """An attachment with the key of its bytes in storage; never sent to clients."""

    storage_key: str
