"""What a client needs to know about this ticketdesk before anyone signs in."""

from pydantic import BaseModel, Field


class InstanceConfig(BaseModel):
    """The public settings the web app adapts to."""

    version: str
    tickets_enabled: bool
    signup_enabled: bool
    allow_attachments: bool
    max_attachment_size_mb: int
    max_files_per_upload: int
    allowed_media_types: list[str]
    github_enabled: bool
    mail_enabled: bool = Field(
        description="Whether this server sends mail (notifications, reset links, invitations)."
    )
