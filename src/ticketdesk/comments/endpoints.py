"""A ticket's conversation."""

from fastapi import APIRouter, status

from ticketdesk.auth.dependencies import CurrentUser
from ticketdesk.comments import service
from ticketdesk.comments.schemas import Comment, CommentCreate
from ticketdesk.config import AppSettings
from ticketdesk.db import Transaction
from ticketdesk.errors import (
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthorized,
    problem_responses,
)
from ticketdesk.rate_limits import RateLimits
from ticketdesk.tickets.access import get_visible_ticket, lock_visible_ticket
from ticketdesk.tickets.schemas import TicketRef

router = APIRouter(tags=["comments"])


@router.post(
    "/tickets/{id}/comments",
    status_code=status.HTTP_201_CREATED,
    operation_id="addComment",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict, RateLimited),
)
async def add_comment(
    id: TicketRef,
    body: CommentCreate,
    actor: CurrentUser,
    conn: Transaction,
    settings: AppSettings,
    limiter: RateLimits,
) -> Comment:
    """Reply on a ticket (the submitter's moves it back to agents), or write a note (staff)."""
    # Visible first, so that a reply to a ticket that is not there never counts; the lock
    # is taken after counting, so that it is not held while Redis answers.
    visible = await get_visible_ticket(conn, actor, id)
    await limiter.check("comment", str(actor.id))
    ticket = await lock_visible_ticket(conn, visible)
    return await service.add_comment(
        conn,
        actor,
        ticket,
        body.comment,
        is_internal=body.is_internal,
        reopen_window=settings.reopen_window,
        staff_reply_waits=settings.tickets.reply_moves_to_waiting,
    )


@router.get(
    "/tickets/{id}/comments",
    operation_id="listComments",
    responses=problem_responses(Unauthorized, NotFound),
)
async def list_comments(id: TicketRef, actor: CurrentUser, conn: Transaction) -> list[Comment]:
    """A ticket's conversation, oldest first (internal notes for staff only)."""
    ticket = await get_visible_ticket(conn, actor, id)
    return await service.list_comments(conn, actor, ticket)
