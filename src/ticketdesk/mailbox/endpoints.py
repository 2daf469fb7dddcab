"""Admin view of inbound mail: the messages that failed (or were refused), retry, dismiss."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from ticketdesk.attachments.storage import Storage
from ticketdesk.auth.dependencies import Audit, CurrentAdmin
from ticketdesk.config import AppSettings
from ticketdesk.db import Transaction
from ticketdesk.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
    problem_responses,
)
from ticketdesk.mailbox import service
from ticketdesk.mailbox.schemas import InboundMail, InboundMailPage, InboundStatus
from ticketdesk.validation import PlainInteger

router = APIRouter(tags=["admin"])

InboundId = Annotated[int, Path(ge=1), PlainInteger]


@router.get(
    "/admin/inbound-mail",
    operation_id="listInboundMail",
    responses=problem_responses(Unauthorized, Forbidden, InvalidInput),
)
async def list_inbound_mail(
    actor: CurrentAdmin,
    conn: Transaction,
    status: Annotated[InboundStatus, Query(description="Which messages to list.")] = "failed",
    cursor: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=100), PlainInteger] = 25,
) -> InboundMailPage:
    """Mail that arrived, by what became of it (failed by default), newest first."""
    return await service.list_messages(conn, status=status, cursor=cursor, limit=limit)


@router.post(
    "/admin/inbound-mail/{inbound_id}/retry",
    operation_id="retryInboundMail",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def retry_inbound_mail(
    inbound_id: InboundId,
    actor: CurrentAdmin,
    conn: Transaction,
    storage: Storage,
    settings: AppSettings,
    audit: Audit,
) -> InboundMail:
    """Act on a failed message once more, now; it is posted, refused or failed again."""
    message = await service.retry_message(conn, storage, settings, inbound_id)
    await audit("inbound_mail.retried", "inbound_mail", message.id, after=_state(message))
    return message


@router.post(
    "/admin/inbound-mail/{inbound_id}/dismiss",
    operation_id="dismissInboundMail",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def dismiss_inbound_mail(
    inbound_id: InboundId, actor: CurrentAdmin, conn: Transaction, audit: Audit
) -> InboundMail:
    """Let a failed message go without posting it."""
    message = await service.dismiss_message(conn, inbound_id)
    await audit("inbound_mail.dismissed", "inbound_mail", message.id, after=_state(message))
    return message


def _state(message: InboundMail) -> dict[str, Any]:
    return message.model_dump(mode="json", include={"message_id", "sender", "subject", "status"})
