"""Facts about this instance: limits and switches the web app shows, and for admins the
timed rules it runs."""

from importlib.metadata import version

from fastapi import APIRouter

from ticketdesk.attachments.service import MAX_FILES
from ticketdesk.auth.dependencies import CurrentAdmin
from ticketdesk.config import AppSettings
from ticketdesk.errors import Forbidden, Unauthorized, problem_responses
from ticketdesk.instance.schemas import Automation, InstanceConfig

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
        verify_email=settings.accounts.verify_email,
    )


@router.get(
    "/admin/automation",
    operation_id="getAutomation",
    tags=["admin"],
    responses=problem_responses(Unauthorized, Forbidden),
)
async def get_automation(actor: CurrentAdmin, settings: AppSettings) -> Automation:
    """The rules this server applies by itself: escalation, auto-close and whether a staff
    reply sets a ticket waiting, as configured (admins)."""
    return Automation(
        escalation_priority=settings.escalation.priority,
        escalation_after_hours=settings.escalation.after_hours,
        auto_close_days=settings.tickets.auto_close_days,
        reply_moves_to_waiting=settings.tickets.reply_moves_to_waiting,
    )
