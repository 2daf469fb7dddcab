"""Exports of tickets: who may ask for what, and the records of how each one went.

Staff export the tickets they may list, filtered as the list filters them, as CSV or
JSON Lines, with their public comments if asked. Internal notes go into an export only
when an admin asks for them (``include_internal_notes``), and only while the requester
is still an admin when the job runs. The file is written by a background job
(``exports.tasks``, the writing in ``exports.writer``); its creator and admins see the
record, follow its progress and download the file, for ``KEEP`` after the job ended.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb
from pydantic import BaseModel

from ticketdesk.auth.service import Actor
from ticketdesk.db import Connection
from ticketdesk.errors import Conflict, Forbidden, InvalidInput, NotFound
from ticketdesk.exports.schemas import Export, ExportCreate, ExportFormat, ExportStatus
from ticketdesk.jobs import queue
from ticketdesk.labels import service as labels
from ticketdesk.saved_views.schemas import ViewFilters
from ticketdesk.sql import (
    execute,
    fetch_all,
    fetch_optional,
    fetch_value,
    fetch_values,
    load_queries,
)
from ticketdesk.teams import service as teams
from ticketdesk.tickets import listing
from ticketdesk.tickets.schemas import TicketFilters
from ticketdesk.users.schemas import Role, UserRef

Q = load_queries(__package__)

WRITE_TASK = "exports.write"
# How long a finished (or failed) export's file and record are kept.
KEEP = timedelta(days=7)
# Objects of exports live under their own prefix, apart from tickets' files.
KEY_PREFIX = "exports/"
LISTED = 100
_EXTENSIONS: dict[ExportFormat, str] = {"csv": "csv", "json": "jsonl"}
MEDIA_TYPES: dict[ExportFormat, str] = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/x-ndjson",
}


class _Row(BaseModel):
    id: UUID
    format: ExportFormat
    filters: dict[str, Any]
    include_comments: bool
    include_internal_notes: bool
    status: ExportStatus
    rows_done: int
    rows_total: int | None
    size_bytes: int | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None
    user_id: UUID
    user_name: str
    user_role: Role
    user_email: str


def storage_key(export_id: UUID) -> str:
    """Where an export's file is stored."""
    return f"{KEY_PREFIX}{export_id}"


def filename(format: ExportFormat, created_at: datetime) -> str:
    """The name an export's download is saved as."""
    return f"tickets-{created_at:%Y%m%d-%H%M%S}.{_EXTENSIONS[format]}"


def ticket_filters(filters: ViewFilters) -> TicketFilters:
    """An export's filters as the ticket list reads them."""
    return TicketFilters(
        status=filters.status,
        type=filters.type,
        priority=filters.priority,
        assignee=filters.assignee,
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


def _shown(row: _Row) -> Export:
    return Export(
        id=row.id,
        format=row.format,
        filters=ViewFilters.model_validate(row.filters),
        include_comments=row.include_comments,
        include_internal_notes=row.include_internal_notes,
        status=row.status,
        rows_done=row.rows_done,
        rows_total=row.rows_total,
        size_bytes=row.size_bytes,
        error=row.error,
        requested_by=UserRef(
            id=row.user_id, name=row.user_name, role=row.user_role, email=row.user_email
        ),
        filename=filename(row.format, row.created_at),
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        expires_at=row.expires_at,
    )


async def _checked_filters(conn: Connection, actor: Actor, filters: ViewFilters) -> ViewFilters:
    """``filters`` checked as the list checks them, against what exists now (a 422 naming
    ``filters.<name>``); tags in their labels' spelling."""
    if filters.team not in (None, "mine", "none"):
        try:
            await teams.get_team(conn, UUID(filters.team))
        except NotFound:
            raise InvalidInput("No such team.", code="unknown_team", field="filters.team") from None
    if filters.tags:
        try:
            filters = filters.model_copy(
                update={"tags": await labels.canonical_tags(conn, filters.tags)}
            )
        except InvalidInput as exc:
            exc.field = "filters.tags"
            raise
    try:
        await listing.matching_condition(conn, actor, ticket_filters(filters))
    except InvalidInput as exc:
        if exc.field and exc.field.startswith("cf."):
            exc.field = f"filters.custom_fields.{exc.field[3:]}"
        elif exc.field:
            exc.field = f"filters.{exc.field}"
        raise
    return filters


async def create_export(conn: Connection, actor: Actor, body: ExportCreate) -> Export:
    """Record an export and queue the job that writes it, in the caller's transaction."""
    if body.include_internal_notes and actor.role != "admin":
        raise Forbidden(
            "Only admins may export internal notes.",
            code="admin_only",
            field="include_internal_notes",
        )
    if body.include_internal_notes and not body.include_comments:
        raise InvalidInput(
            "Internal notes are comments: ask for include_comments too.",
            code="notes_need_comments",
            field="include_internal_notes",
        )
    filters = await _checked_filters(conn, actor, body.filters)
    export_id = await fetch_value(
        conn,
        UUID,
        Q.insert_export,
        {
            "requested_by": actor.id,
            "format": body.format,
            "filters": Jsonb(filters.model_dump(mode="json", exclude_defaults=True)),
            "include_comments": body.include_comments,
            "include_internal_notes": body.include_internal_notes,
        },
    )
    await queue.defer(conn, WRITE_TASK, export_id=str(export_id))
    return await get_export(conn, actor, export_id)


def _may_see(actor: Actor, row: _Row) -> bool:
    return actor.role == "admin" or row.user_id == actor.id


async def _visible(conn: Connection, actor: Actor, export_id: UUID) -> _Row:
    row = await fetch_optional(conn, _Row, Q.get_export, {"export_id": export_id})
    if row is None or not _may_see(actor, row):
        raise NotFound("No such export.", code="export_not_found")
    return row


async def get_export(conn: Connection, actor: Actor, export_id: UUID) -> Export:
    """An export its creator or an admin may see; anyone else gets a 404."""
    return _shown(await _visible(conn, actor, export_id))


async def list_exports(conn: Connection, actor: Actor) -> list[Export]:
    """The newest ``LISTED`` exports: an admin's view is everyone's, an agent's their own."""
    rows = await fetch_all(
        conn,
        _Row,
        Q.list_exports,
        {"viewer_id": None if actor.role == "admin" else actor.id, "limit": LISTED},
    )
    return [_shown(row) for row in rows]


@dataclass(frozen=True)
class Download:
    """A finished export's file: where it is stored and what to call it."""

    key: str
    filename: str
    media_type: str


async def download(conn: Connection, actor: Actor, export_id: UUID) -> Download:
    """The file of a finished export its creator or an admin may see (409 until done)."""
    row = await _visible(conn, actor, export_id)
    if row.status != "done":
        raise Conflict(
            f"The export is {row.status}: there is no file to download.",
            code="export_not_ready",
        )
    return Download(
        key=storage_key(row.id),
        filename=filename(row.format, row.created_at),
        media_type=MEDIA_TYPES[row.format],
    )


async def delete_export(conn: Connection, actor: Actor, export_id: UUID) -> str:
    """Delete an export its creator or an admin may see; a running job stops at its next
    batch. Returns the key of the file, for the caller to remove once this commits."""
    row = await _visible(conn, actor, export_id)
    await execute(conn, Q.delete_export, {"export_id": row.id})
    return storage_key(row.id)


async def fail(conn: Connection, export_id: UUID, error: str) -> None:
    """Mark an export that has not ended as failed, with why."""
    await execute(conn, Q.fail_export, {"export_id": export_id, "error": error, "keep": KEEP})


EXPIRY_BATCH = 500


async def remove_expired(conn: Connection) -> list[str]:
    """Delete up to ``EXPIRY_BATCH`` expired exports' records, in ``conn``'s transaction;
    returns their files' keys, to be removed once it commits."""
    ids = await fetch_values(conn, UUID, Q.expired_exports, {"limit": EXPIRY_BATCH})
    if ids:
        await execute(conn, Q.delete_exports, {"ids": ids})
    return [storage_key(export_id) for export_id in ids]


async def unknown_keys(conn: Connection, keys: list[str]) -> list[str]:
    """Those of ``keys`` (under ``KEY_PREFIX``) that name no export."""
    ids: dict[UUID, str] = {}
    for key in keys:
        try:
            ids[UUID(key.removeprefix(KEY_PREFIX))] = key
        except ValueError:
            continue
    if not ids:
        return []
    known = set(await fetch_values(conn, UUID, Q.known_exports, {"ids": list(ids)}))
    return [key for export_id, key in ids.items() if export_id not in known]
