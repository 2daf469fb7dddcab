"""Satisfaction ratings: the submitter's in the app, and anyone's holding a mailed link."""

from fastapi import APIRouter

from ticketdesk.auth.dependencies import CurrentUser, SigningSecret
from ticketdesk.csat import service
from ticketdesk.csat.schemas import (
    LinkCommentRequest,
    LinkRating,
    LinkRatingRequest,
    RatingRequest,
    Satisfaction,
)
from ticketdesk.db import Transaction
from ticketdesk.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
    problem_responses,
)
from ticketdesk.tickets.schemas import TicketRef

router = APIRouter(tags=["satisfaction"])


@router.put(
    "/tickets/{id}/rating",
    operation_id="rateTicket",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict, InvalidInput),
)
async def rate_ticket(
    id: TicketRef, body: RatingRequest, actor: CurrentUser, conn: Transaction
) -> Satisfaction:
    """Rate your resolved or closed ticket good or bad, with an optional comment, or change
    the rating within 7 days of the first (its submitter only)."""
    return await service.rate(conn, actor, id, body)


@router.post(
    "/ratings/link",
    operation_id="rateByLink",
    responses=problem_responses(NotFound, Conflict, InvalidInput),
)
async def rate_by_link(
    body: LinkRatingRequest, conn: Transaction, secret: SigningSecret
) -> LinkRating:
    """Rate a ticket with the token of the resolution mail's link (no sign-in). The token
    works once, for 7 days; the answer's comment grant lets a comment follow."""
    return await service.rate_by_link(conn, secret, body)


@router.put(
    "/ratings/link/comment",
    operation_id="commentByLink",
    responses=problem_responses(NotFound, Conflict, InvalidInput),
)
async def comment_by_link(
    body: LinkCommentRequest, conn: Transaction, secret: SigningSecret
) -> LinkRating:
    """Write the comment of a rating made with a mailed link (no sign-in), within the
    hour of its comment grant."""
    return await service.comment_by_link(conn, secret, body)
