"""Staff presence on a ticket: who else is viewing it or writing a reply."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from ticketdesk.auth.dependencies import CurrentUser
from ticketdesk.db import Transaction
from ticketdesk.errors import Forbidden, NotFound, Unauthorized, problem_responses
from ticketdesk.presence import service
from ticketdesk.presence.board import PresenceBoard
from ticketdesk.presence.schemas import PresenceList, PresenceUpdate
from ticketdesk.tickets.schemas import TicketRef

router = APIRouter(tags=["presence"])


async def app_presence_board(request: Request) -> PresenceBoard:
    """The running app's presence board."""
    board: PresenceBoard = request.app.state.presence
    return board


Board = Annotated[PresenceBoard, Depends(app_presence_board)]


@router.put(
    "/tickets/{id}/presence",
    operation_id="markPresence",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def mark_presence(
    id: TicketRef, body: PresenceUpdate, actor: CurrentUser, conn: Transaction, board: Board
) -> PresenceList:
    """Say you are viewing or replying to a ticket for the next 45 seconds (renew every
    20 or so); the other staff on it (staff only)."""
    return await service.mark_present(conn, board, actor, id, body.state)


@router.get(
    "/tickets/{id}/presence",
    operation_id="getPresence",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def get_presence(
    id: TicketRef, actor: CurrentUser, conn: Transaction, board: Board
) -> PresenceList:
    """The other staff viewing or replying to a ticket now (staff only)."""
    return await service.others_present(conn, board, actor, id)


@router.delete(
    "/tickets/{id}/presence",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="leavePresence",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def leave_presence(
    id: TicketRef, actor: CurrentUser, conn: Transaction, board: Board
) -> None:
    """Say you left a ticket (staff only)."""
    await service.leave(conn, board, actor, id)
