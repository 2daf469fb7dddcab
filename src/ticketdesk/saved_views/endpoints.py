"""Saved triage views: staff save filters and a sort by name and see their open counts."""

from uuid import UUID

from fastapi import APIRouter, status

from ticketdesk.auth.dependencies import CurrentAgent
from ticketdesk.db import Transaction
from ticketdesk.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
    problem_responses,
)
from ticketdesk.saved_views import service
from ticketdesk.saved_views.schemas import SavedView, SavedViewCreate, SavedViewUpdate

router = APIRouter(tags=["saved views"])


@router.get(
    "/saved-views",
    operation_id="listSavedViews",
    responses=problem_responses(Unauthorized, Forbidden),
)
async def list_saved_views(actor: CurrentAgent, conn: Transaction) -> list[SavedView]:
    """The shared views and your own, by name, each with its open count (staff)."""
    return await service.list_views(conn, actor)


@router.post(
    "/saved-views",
    status_code=status.HTTP_201_CREATED,
    operation_id="createSavedView",
    responses=problem_responses(Unauthorized, Forbidden, Conflict, InvalidInput),
)
async def create_saved_view(
    body: SavedViewCreate, actor: CurrentAgent, conn: Transaction
) -> SavedView:
    """Save filters and a sort as a named view, yours or shared with all staff."""
    return await service.create_view(conn, actor, body)


@router.get(
    "/saved-views/{view_id}",
    operation_id="getSavedView",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def get_saved_view(view_id: UUID, actor: CurrentAgent, conn: Transaction) -> SavedView:
    """One view, shared or your own, with its open count (staff)."""
    return await service.get_view(conn, actor, view_id)


@router.patch(
    "/saved-views/{view_id}",
    operation_id="updateSavedView",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict, InvalidInput),
)
async def update_saved_view(
    view_id: UUID, body: SavedViewUpdate, actor: CurrentAgent, conn: Transaction
) -> SavedView:
    """Rename, share or change a view you saved (admins: any shared view)."""
    return await service.update_view(conn, actor, view_id, body)


@router.delete(
    "/saved-views/{view_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="deleteSavedView",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def delete_saved_view(view_id: UUID, actor: CurrentAgent, conn: Transaction) -> None:
    """Delete a view you saved (admins: any shared view)."""
    await service.delete_view(conn, actor, view_id)
