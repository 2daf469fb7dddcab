"""Saved triage views and their open counts.

A view is a name, filters in the list API's vocabulary (``GET /tickets``), and a sort;
any agent saves one for themselves or shares it with all staff. Its owner changes it;
admins may also change or delete a shared one.

The sidebar shows each view's open count without counting a million tickets per view
per page load: a count stops at ``COUNT_CAP`` + 1 rows (more is shown as "1,000+"),
and is kept in ``saved_view_counts`` with the horizon of its snapshot (the oldest
transaction then running). It is taken again only once a ticket event exists from a
transaction at or past that horizon: one that had not committed when the count was
taken. Transactions commit out of the order of their events' ids, so the newest event's
id cannot say this; the writing transaction's id can, whatever the order of commits.
Changing a view's filters forgets its counts. A view filtering by SLA state or by the
viewer's teams is counted at each load: neither a clock turning a ticket at risk nor a
change of team members is a ticket event.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from ticketdesk.auth.service import Actor
from ticketdesk.db import Connection, constraint_name
from ticketdesk.errors import Conflict, Forbidden, InvalidInput, NotFound
from ticketdesk.fields import service as fields
from ticketdesk.labels import service as labels
from ticketdesk.saved_views.schemas import (
    SavedView,
    SavedViewCreate,
    SavedViewUpdate,
    ViewFilters,
)
from ticketdesk.sql import execute, fetch_all, fetch_one, fetch_optional, load_queries
from ticketdesk.teams import service as teams
from ticketdesk.tickets import listing
from ticketdesk.tickets.schemas import ListSort, Status, TicketFilters

Q = load_queries(__package__)

COUNT_CAP = 1000
OPEN_STATUSES: tuple[Status, ...] = ("open", "in_progress", "waiting")
# The viewer a count is kept for when the view's filters do not name the viewer.
EVERYONE = UUID(int=0)


class _Row(BaseModel):
    id: UUID
    name: str
    shared: bool
    owner_id: UUID
    filters: dict[str, Any]
    sort: ListSort
    created_at: datetime
    updated_at: datetime


class _Horizon(BaseModel):
    newest: int | None
    horizon: int


class _Count(BaseModel):
    view_id: UUID
    viewer_id: UUID
    open_count: int
    horizon: int
    counted_at: datetime


@dataclass(frozen=True)
class _Wanted:
    row: _Row
    filters: ViewFilters
    viewer_id: UUID


def _name_taken(exc: psycopg.errors.UniqueViolation) -> Conflict | None:
    if constraint_name(exc) == "saved_views_name_key":
        return Conflict("You have a view with this name.", code="view_exists", field="name")
    return None


def _check(filters: ViewFilters, sort: ListSort) -> None:
    if sort == "relevance" and not (filters.q and filters.q.strip()):
        raise InvalidInput(
            "Sorting by relevance needs a search (filters.q).",
            code="relevance_needs_q",
            field="sort",
        )


async def _canonical(conn: Connection, filters: ViewFilters) -> ViewFilters:
    """``filters`` checked against what exists now: tags by their label's name, the team,
    and each custom field filter as the list would check it (a 422 naming
    ``filters.custom_fields.<key>``)."""
    if filters.team not in (None, "mine", "none"):
        try:
            await teams.get_team(conn, UUID(filters.team))
        except NotFound:
            raise InvalidInput("No such team.", code="unknown_team", field="filters.team") from None
    if filters.custom_fields:
        try:
            await fields.filters(conn, filters.custom_fields, staff=True)
        except InvalidInput as exc:
            if exc.field and exc.field.startswith("cf."):
                exc.field = f"filters.custom_fields.{exc.field[3:]}"
            raise
    if not filters.tags:
        return filters
    try:
        tags = await labels.canonical_tags(conn, filters.tags)
    except InvalidInput as exc:
        exc.field = "filters.tags"
        raise
    return filters.model_copy(update={"tags": tags})


def _stored(filters: ViewFilters) -> Jsonb:
    return Jsonb(filters.model_dump(mode="json", exclude_defaults=True))


def _ticket_filters(filters: ViewFilters) -> TicketFilters:
    """The view's filters narrowed to open tickets, as the list reads them."""
    statuses = [s for s in (filters.status or OPEN_STATUSES) if s in OPEN_STATUSES]
    return TicketFilters(
        status=statuses,
        type=filters.type,
        priority=filters.priority,
        assignee=None if filters.assignee is None else str(filters.assignee),
        submitter=filters.submitter,
        tags=filters.tags,
        metadata=filters.metadata,
        created_after=filters.created_after,
        created_before=filters.created_before,
        updated_after=filters.updated_after,
        updated_before=filters.updated_before,
        q=filters.q.strip() if filters.q and filters.q.strip() else None,
        customer_replied=filters.customer_replied,
        team=filters.team,
        sla=filters.sla,
        custom_fields=filters.custom_fields,
    )


def _viewer(actor: Actor, filters: ViewFilters) -> UUID:
    """Whom a count of ``filters`` is kept for: the viewer when they name the viewer."""
    return actor.id if filters.assignee == "me" or filters.team == "mine" else EVERYONE


def _keeps(filters: ViewFilters, field_keys: set[str]) -> bool:
    """Whether a count of ``filters`` stays true until a ticket event says otherwise. Not
    with an SLA state (the clock turns a ticket at risk with no event), the viewer's
    teams (joining a team is no ticket event), or a custom field deleted since (nor is
    that): those are counted each time."""
    fields_gone = any(key.partition(".")[0] not in field_keys for key in filters.custom_fields)
    return not filters.sla and filters.team != "mine" and not fields_gone


async def _count(conn: Connection, actor: Actor, filters: ViewFilters) -> int:
    narrowed = _ticket_filters(filters)
    if not narrowed.status:
        return 0
    try:
        return await listing.count_tickets(conn, actor, narrowed, cap=COUNT_CAP + 1)
    except InvalidInput:
        # A custom field it filters by was deleted since: the list refuses the view's
        # filters as they stand, so nothing is listed until the view is changed.
        return 0


def _fresh(count: _Count | None, now: _Horizon) -> bool:
    """Whether no ticket event was committed after ``count`` was taken."""
    if count is None:
        return False
    return now.newest is None or now.newest < count.horizon


async def _with_counts(conn: Connection, actor: Actor, rows: list[_Row]) -> list[SavedView]:
    """``rows`` with their open counts: kept ones while no ticket changed, else counted."""
    wanted = [
        _Wanted(
            row=row,
            filters=(filters := ViewFilters.model_validate(row.filters)),
            viewer_id=_viewer(actor, filters),
        )
        for row in rows
    ]
    field_keys: set[str] = set()
    if any(w.filters.custom_fields for w in wanted):
        field_keys = {f.key for f in await fields.list_fields(conn, staff=True)}
    # Read before counting: a change committed meanwhile makes the next load count again.
    now = await fetch_one(conn, _Horizon, Q.change_horizon)
    kept = {
        (c.view_id, c.viewer_id): c
        for c in await fetch_all(
            conn,
            _Count,
            Q.cached_counts,
            {"view_ids": [w.row.id for w in wanted], "viewer_ids": [actor.id, EVERYONE]},
        )
    }
    views: list[SavedView] = []
    for w in wanted:
        count = kept.get((w.row.id, w.viewer_id))
        if not (_keeps(w.filters, field_keys) and _fresh(count, now)):
            found = await _count(conn, actor, w.filters)
            count = await fetch_one(
                conn,
                _Count,
                Q.store_count,
                {
                    "view_id": w.row.id,
                    "viewer_id": w.viewer_id,
                    "open_count": found,
                    "horizon": now.horizon,
                },
            )
        assert count is not None
        views.append(
            SavedView(
                **w.row.model_dump(exclude={"filters"}),
                filters=w.filters,
                mine=w.row.owner_id == actor.id,
                open_count=min(count.open_count, COUNT_CAP),
                open_count_capped=count.open_count > COUNT_CAP,
                counted_at=count.counted_at,
            )
        )
    return views


async def list_views(conn: Connection, actor: Actor) -> list[SavedView]:
    """The shared views and ``actor``'s own, by name, each with its open count."""
    rows = await fetch_all(conn, _Row, Q.list_saved_views, {"viewer_id": actor.id})
    return await _with_counts(conn, actor, rows)


async def _get_row(conn: Connection, actor: Actor, view_id: UUID) -> _Row:
    row = await fetch_optional(
        conn, _Row, Q.get_saved_view, {"view_id": view_id, "viewer_id": actor.id}
    )
    if row is None:
        raise NotFound("No such view.", code="view_not_found")
    return row


async def get_view(conn: Connection, actor: Actor, view_id: UUID) -> SavedView:
    """One view ``actor`` may use (shared, or their own), with its open count."""
    (view,) = await _with_counts(conn, actor, [await _get_row(conn, actor, view_id)])
    return view


async def _write(conn: Connection, query: Any, params: dict[str, Any]) -> _Row:
    try:
        async with conn.transaction():
            return await fetch_one(conn, _Row, query, params)
    except psycopg.errors.UniqueViolation as exc:
        raise (_name_taken(exc) or exc) from exc


async def create_view(conn: Connection, actor: Actor, body: SavedViewCreate) -> SavedView:
    """Save a view for ``actor``, shared with all staff or not."""
    _check(body.filters, body.sort)
    filters = await _canonical(conn, body.filters)
    row = await _write(
        conn,
        Q.insert_saved_view,
        {
            "owner_id": actor.id,
            "shared": body.shared,
            "name": body.name,
            "filters": _stored(filters),
            "sort": body.sort,
        },
    )
    (view,) = await _with_counts(conn, actor, [row])
    return view


def _may_change(actor: Actor, row: _Row) -> None:
    if row.owner_id != actor.id and actor.role != "admin":
        raise Forbidden(
            "Only the agent who saved this view, or an admin, may change it.",
            code="not_view_owner",
        )


async def update_view(
    conn: Connection, actor: Actor, view_id: UUID, body: SavedViewUpdate
) -> SavedView:
    """Change a view: its owner, or an admin for a shared one."""
    row = await _get_row(conn, actor, view_id)
    _may_change(actor, row)
    filters = body.filters if body.filters is not None else ViewFilters.model_validate(row.filters)
    sort = body.sort or row.sort
    _check(filters, sort)
    filters = await _canonical(conn, filters)
    saved = await _write(
        conn,
        Q.update_saved_view,
        {
            "view_id": view_id,
            "name": body.name or row.name,
            "shared": row.shared if body.shared is None else body.shared,
            "filters": _stored(filters),
            "sort": sort,
        },
    )
    (view,) = await _with_counts(conn, actor, [saved])
    return view


async def delete_view(conn: Connection, actor: Actor, view_id: UUID) -> None:
    """Delete a view: its owner, or an admin for a shared one."""
    row = await _get_row(conn, actor, view_id)
    _may_change(actor, row)
    await execute(conn, Q.delete_saved_view, {"view_id": view_id})
