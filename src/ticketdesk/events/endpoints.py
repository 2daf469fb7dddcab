"""A ticket's timeline."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from ticketdesk.auth.dependencies import CurrentUser
from ticketdesk.db import Transaction
from ticketdesk.errors import NotFound, Unauthorized, problem_responses
from ticketdesk.events import service
from ticketdesk.events.schemas import EventPage
from ticketdesk.tickets.access import get_readable_ticket, only_reads
from ticketdesk.tickets.schemas import TicketRef
from ticketdesk.validation import PlainInteger

router = APIRouter(tags=["events"])


@router.get(
    "/tickets/{id}/events",
    operation_id="listTicketEvents",
    responses=problem_responses(Unauthorized, NotFound),
)
async def list_events(
    id: TicketRef,
    actor: CurrentUser,
    conn: Transaction,
    cursor: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=200), PlainInteger] = 100,
) -> EventPage:
    """Everything that happened to a ticket, oldest first."""
    ticket = await get_readable_ticket(conn, actor, id)
    return await service.list_events(
        conn, actor, ticket.id, after=cursor, limit=limit, follower=only_reads(actor, ticket)
    )
