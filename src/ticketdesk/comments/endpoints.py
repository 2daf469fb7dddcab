"""A ticket's conversation, and the notes that mention the caller."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from ticketdesk.auth.dependencies import CurrentUser
from ticketdesk.comments import mentions, service
from ticketdesk.comments.mentions import MentionPage
from ticketdesk.comments.schemas import Comment, CommentCreate
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
from ticketdesk.tickets.access import get_readable_ticket, lock_visible_ticket
from ticketdesk.tickets.schemas import TicketRef
from ticketdesk.validation import PlainInteger

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
    """Reply on a ticket (the submitter's, or a follower's, moves it back to agents), or
    write a note (staff)."""
    # Visible first, so that a reply to a ticket that is not there never counts; the lock
    # is taken after counting, so that it is not held while Redis answers. Followers
    # reply too: they read its public side.
    visible = await get_readable_ticket(conn, actor, id)
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
    ticket = await get_readable_ticket(conn, actor, id)
    return await service.list_comments(conn, actor, ticket)


@router.get(
    "/me/mentions",
    operation_id="listMentions",
    responses=problem_responses(Unauthorized, InvalidInput),
)
async def list_mentions(
    actor: CurrentUser,
    conn: Transaction,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=100), PlainInteger] = 20,
) -> MentionPage:
    """The internal notes that mention you (staff), newest first, and how many are unread."""
    return await mentions.list_mentions(conn, actor, cursor=cursor, limit=limit)


@router.post(
    "/me/mentions/read",
    operation_id="markMentionsRead",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(Unauthorized, Forbidden),
)
async def mark_mentions_read(actor: CurrentUser, conn: Transaction) -> None:
    """Mark every mention of you read."""
    await mentions.mark_read(conn, actor)
