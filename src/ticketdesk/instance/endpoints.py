"""Public facts about this instance: limits and switches the web app shows."""

from importlib.metadata import version

from fastapi import APIRouter

from ticketdesk.attachments.service import MAX_FILES
from ticketdesk.config import AppSettings
from ticketdesk.instance.schemas import InstanceConfig

router = APIRouter(tags=["instance"])


@router.get("/config", operation_id="getInstanceConfig")
async def get_config(settings: AppSettings) -> InstanceConfig:
    """Limits and switches of this instance (no sign-in needed)."""
    tickets = settings.tickets
    return InstanceConfig(
        version=version("ticketdesk"),
        tickets_enabled=tickets.enabled,
        signup_enabled=settings.signup_enabled,
        allow_attachments=tickets.allow_attachments,
        max_attachment_size_mb=tickets.max_attachment_size_mb,
        max_files_per_upload=MAX_FILES,
        allowed_media_types=list(tickets.allowed_attachment_types),
        github_enabled=tickets.github.enabled,
        mail_enabled=settings.mail_enabled,
    )
