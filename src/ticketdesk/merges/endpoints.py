"""Merging a duplicate into a main ticket, and undoing it (staff)."""

from fastapi import APIRouter, status

from ticketdesk.auth.dependencies import Audit, CurrentAgent
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
from ticketdesk.merges import service
from ticketdesk.merges.schemas import Merge, MergeRequest
from ticketdesk.tickets.schemas import TicketRef

router = APIRouter(tags=["tickets"])


@router.post(
    "/tickets/{id}/merge",
    operation_id="mergeTicket",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(Unauthorized, Forbidden, NotFound, InvalidInput),
)
async def merge_ticket(
    id: TicketRef,
    body: MergeRequest,
    actor: CurrentAgent,
    conn: Transaction,
    settings: AppSettings,
    audit: Audit,
) -> Merge:
    """Merge this ticket, a duplicate, into another: its comments, files and followers move
    there, and it is closed with a pointer to it."""
    merge = await service.merge(
        conn,
        actor,
        id,
        body,
        reopen_window=settings.reopen_window,
        undo_window=settings.merge_undo_window,
    )
    await audit("ticket.merged", "ticket", merge.duplicate.id, after=merge)
    return merge


@router.delete(
    "/tickets/{id}/merge",
    operation_id="undoMerge",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def undo_merge(
    id: TicketRef, actor: CurrentAgent, conn: Transaction, settings: AppSettings, audit: Audit
) -> Merge:
    """Undo this duplicate's merge, within tickets.merge_undo_minutes: what moved moves back."""
    merge = await service.undo(conn, actor, id, undo_window=settings.merge_undo_window)
    await audit("ticket.unmerged", "ticket", merge.duplicate.id, after=merge)
    return merge
