"""What a client learns about this ticketdesk: its public configuration, before anyone
signs in, and (for admins) the timed rules it runs."""

from typing import Literal

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
    verify_email: bool = Field(
        description="Whether a new account confirms its address by a mailed link before it "
        "signs in (accounts.verify_email); until then, signing in is refused as a wrong "
        "password is."
    )


class Automation(BaseModel):
    """The rules this server applies by itself, as configured (read-only: they are settings)."""

    escalation_priority: Literal["low", "medium", "high", "critical"] = Field(
        description="Tickets of this priority are escalated (escalation.priority)."
    )
    escalation_after_hours: int = Field(
        description="Hours after opening, with no public staff reply and the ticket neither "
        "resolved nor closed, when admins are alerted (escalation.after_hours)."
    )
    auto_close_days: int = Field(
        description="Days after resolution, with no public reply since, when a resolved "
        "ticket closes; 0: never (tickets.auto_close_days)."
    )
    reply_moves_to_waiting: bool = Field(
        description="Whether a public staff reply sets an open or in-progress ticket waiting "
        "for its submitter (tickets.reply_moves_to_waiting)."
    )
