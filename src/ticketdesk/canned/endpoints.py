"""Canned replies: staff save them, fill them in for a ticket and send them."""

from uuid import UUID

from fastapi import APIRouter, status

from ticketdesk.auth.dependencies import Audit, CurrentAgent, CurrentUser
from ticketdesk.canned import service
from ticketdesk.canned.schemas import (
    CannedReply,
    CannedReplyCreate,
    CannedReplySend,
    CannedReplyUpdate,
    RenderedReply,
)
from ticketdesk.comments.schemas import Comment
from ticketdesk.config import AppSettings
from ticketdesk.db import Transaction
from ticketdesk.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    Unauthorized,
    problem_responses,
)
from ticketdesk.rate_limits import RateLimits
from ticketdesk.tickets.access import get_visible_ticket, lock_visible_ticket
from ticketdesk.tickets.schemas import TicketRef

router = APIRouter(tags=["canned replies"])


@router.get(
    "/canned-replies",
    operation_id="listCannedReplies",
    responses=problem_responses(Unauthorized, Forbidden),
)
async def list_canned_replies(actor: CurrentAgent, conn: Transaction) -> list[CannedReply]:
    """The shared canned replies and your own, by title (staff)."""
    return await service.list_replies(conn, actor)


@router.post(
    "/canned-replies",
    status_code=status.HTTP_201_CREATED,
    operation_id="createCannedReply",
    responses=problem_responses(Unauthorized, Forbidden, Conflict, InvalidInput),
)
async def create_canned_reply(
    body: CannedReplyCreate, actor: CurrentAgent, conn: Transaction, audit: Audit
) -> CannedReply:
    """Save a canned reply: your own, or a shared one (admins)."""
    reply = await service.create_reply(conn, actor, body)
    if reply.scope == "shared":
        await audit("canned_reply.created", "canned_reply", reply.id, after=reply)
    return reply


@router.get(
    "/canned-replies/{canned_reply_id}",
    operation_id="getCannedReply",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def get_canned_reply(
    canned_reply_id: UUID, actor: CurrentAgent, conn: Transaction
) -> CannedReply:
    """One canned reply: shared, or your own (staff)."""
    return await service.get_reply(conn, actor, canned_reply_id)


@router.patch(
    "/canned-replies/{canned_reply_id}",
    operation_id="updateCannedReply",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict, InvalidInput),
)
async def update_canned_reply(
    canned_reply_id: UUID,
    body: CannedReplyUpdate,
    actor: CurrentAgent,
    conn: Transaction,
    audit: Audit,
) -> CannedReply:
    """Change your canned reply, or a shared one (admins)."""
    before = await service.get_reply(conn, actor, canned_reply_id)
    reply = await service.update_reply(conn, actor, canned_reply_id, body)
    if "shared" in (before.scope, reply.scope):
        await audit("canned_reply.updated", "canned_reply", reply.id, before=before, after=reply)
    return reply


@router.delete(
    "/canned-replies/{canned_reply_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="deleteCannedReply",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def delete_canned_reply(
    canned_reply_id: UUID, actor: CurrentAgent, conn: Transaction, audit: Audit
) -> None:
    """Delete your canned reply, or a shared one (admins)."""
    before = await service.get_reply(conn, actor, canned_reply_id)
    await service.delete_reply(conn, actor, canned_reply_id)
    if before.scope == "shared":
        await audit("canned_reply.deleted", "canned_reply", canned_reply_id, before=before)


@router.get(
    "/tickets/{id}/canned-replies/{canned_reply_id}/render",
    operation_id="renderCannedReply",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, InvalidInput),
)
async def render_canned_reply(
    id: TicketRef, canned_reply_id: UUID, actor: CurrentUser, conn: Transaction
) -> RenderedReply:
    """A canned reply filled in for this ticket, to edit before sending (staff)."""
    ticket = await get_visible_ticket(conn, actor, id)
    service.require_staff(actor)
    return await service.render_for_ticket(conn, actor, ticket, canned_reply_id)


@router.post(
    "/tickets/{id}/canned-replies/{canned_reply_id}/send",
    status_code=status.HTTP_201_CREATED,
    operation_id="sendCannedReply",
    responses=problem_responses(
        Unauthorized, Forbidden, NotFound, Conflict, InvalidInput, RateLimited
    ),
)
async def send_canned_reply(
    id: TicketRef,
    canned_reply_id: UUID,
    body: CannedReplySend,
    actor: CurrentUser,
    conn: Transaction,
    settings: AppSettings,
    limiter: RateLimits,
) -> Comment:
    """Send a reply made from a canned reply and apply its status and labels with it, all
    or nothing (staff)."""
    visible = await get_visible_ticket(conn, actor, id)
    service.require_staff(actor)
    await limiter.check("comment", str(actor.id))
    ticket = await lock_visible_ticket(conn, visible)
    return await service.send_reply(
        conn,
        actor,
        ticket,
        canned_reply_id,
        body.comment,
        is_internal=body.is_internal,
        reopen_window=settings.reopen_window,
    )
