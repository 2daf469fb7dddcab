"""Saved triage views: staff save filters and a sort by name and see their open counts."""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, status

from ticketdesk.auth.dependencies import Audit, CurrentAgent
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
    body: SavedViewCreate, actor: CurrentAgent, conn: Transaction, audit: Audit
) -> SavedView:
    """Save filters and a sort as a named view, yours or shared with all staff."""
    view = await service.create_view(conn, actor, body)
    if view.shared:
        await audit("saved_view.created", "saved_view", view.id, after=_state(view))
    return view


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
    view_id: UUID, body: SavedViewUpdate, actor: CurrentAgent, conn: Transaction, audit: Audit
) -> SavedView:
    """Rename, share or change a view you saved (admins: any shared view)."""
    before = await service.get_view(conn, actor, view_id)
    view = await service.update_view(conn, actor, view_id, body)
    if before.shared or view.shared:
        await audit(
            "saved_view.updated", "saved_view", view.id, before=_state(before), after=_state(view)
        )
    return view


@router.delete(
    "/saved-views/{view_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="deleteSavedView",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def delete_saved_view(
    view_id: UUID, actor: CurrentAgent, conn: Transaction, audit: Audit
) -> None:
    """Delete a view you saved (admins: any shared view)."""
    before = await service.get_view(conn, actor, view_id)
    await service.delete_view(conn, actor, view_id)
    if before.shared:
        await audit("saved_view.deleted", "saved_view", view_id, before=_state(before))


def _state(view: SavedView) -> dict[str, Any]:
    """A view as the trail keeps it: without what depends on who looks, or when."""
    return view.model_dump(mode="json", exclude={"mine", "open_count", "open_count_capped"})
