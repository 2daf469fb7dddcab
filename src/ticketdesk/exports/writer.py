"""Writing an export's file, in bounded memory whatever the number of tickets.

The tickets are read ``BATCH`` at a time in order of number (a keyset on the unique
index, never OFFSET), up to the newest that matched when the job started; each batch is
encoded and handed to the store as it is made, which uploads it in parts of a few
megabytes (``attachments.storage``). So a worker holds one batch and the parts in flight,
never the export. After each batch the export's ``rows_done`` is brought up to date; if
the export has been deleted meanwhile, the upload is abandoned and nothing is stored.

CSV: one row per ticket, the columns ``CSV_COLUMNS``, then ``cf.<key>`` for each custom
field (oldest first; staff-only ones too: only staff export), then ``comments`` when
asked: a JSON array of the comments, oldest first. A cell that a spreadsheet would read
as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is
written with a ``'`` before it, except a plain number such as ``-3``. JSON: JSON Lines,
one object per ticket, with ``comments`` nested when asked.
"""

import csv
import io
import json
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from ticketdesk import db
from ticketdesk.attachments.storage import AttachmentStorage
from ticketdesk.auth.service import Actor
from ticketdesk.db import Connection
from ticketdesk.errors import TicketdeskError
from ticketdesk.exports import service
from ticketdesk.exports.schemas import ExportFormat
from ticketdesk.fields import service as fields
from ticketdesk.jobs.queue import GiveUp
from ticketdesk.saved_views.schemas import ViewFilters
from ticketdesk.sql import execute, fetch_all, fetch_one, fetch_optional, load_queries
from ticketdesk.tickets import listing
from ticketdesk.users.schemas import Role

Q = load_queries(__package__)

BATCH = 500
CSV_COLUMNS = (
    "number",
    "title",
    "status",
    "type",
    "priority",
    "submitter_email",
    "submitter_name",
    "assignee_email",
    "assignee_name",
    "team",
    "labels",
    "created_at",
    "updated_at",
    "resolved_at",
    "closed_at",
    "description",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def safe_cell(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet runs as a formula."""
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


@dataclass(frozen=True)
class _Ticket:
    id: UUID
    number: int
    title: str
    description: str
    status: str
    type: str
    priority: str
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    submitter_email: str
    submitter_name: str
    assignee_email: str | None
    assignee_name: str | None
    team: str | None


@dataclass(frozen=True)
class _Comment:
    ticket_id: UUID
    created_at: datetime
    is_internal: bool
    body: str
    author_email: str
    author_name: str


@dataclass(frozen=True)
class _Scope:
    total: int
    last_number: int


@dataclass(frozen=True)
class _Job:
    format: ExportFormat
    filters: dict[str, Any]
    include_comments: bool
    include_internal_notes: bool
    requested_by: UUID


@dataclass(frozen=True)
class _Requester:
    id: UUID
    email: str
    name: str
    role: Role


class _Deleted(Exception):
    """The export was deleted while its file was being written."""


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _comment(comment: _Comment) -> dict[str, Any]:
    return {
        "author_email": comment.author_email,
        "author_name": comment.author_name,
        "internal": comment.is_internal,
        "created_at": comment.created_at.isoformat(),
        "body": comment.body,
    }


def _field_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return str(value)


class _Encoder:
    """Turns batches of tickets into the bytes of one format."""

    def __init__(self, format: ExportFormat, field_keys: Sequence[str], comments: bool) -> None:
        self.format = format
        self.field_keys = field_keys
        self.comments = comments

    def header(self) -> bytes:
        if self.format == "json":
            return b""
        names = [*CSV_COLUMNS, *(f"cf.{key}" for key in self.field_keys)]
        return self._csv([[*names, *(["comments"] if self.comments else [])]])

    def batch(
        self,
        tickets: Sequence[_Ticket],
        values: dict[UUID, dict[str, Any]],
        comments: dict[UUID, list[dict[str, Any]]],
    ) -> bytes:
        if self.format == "json":
            return "".join(
                json.dumps(self._object(t, values.get(t.id, {}), comments.get(t.id, []))) + "\n"
                for t in tickets
            ).encode()
        return self._csv(
            [self._row(t, values.get(t.id, {}), comments.get(t.id, [])) for t in tickets]
        )

    def _object(
        self, t: _Ticket, values: dict[str, Any], comments: list[dict[str, Any]]
    ) -> dict[str, Any]:
        found: dict[str, Any] = {
            "number": t.number,
            "id": str(t.id),
            "title": t.title,
            "status": t.status,
            "type": t.type,
            "priority": t.priority,
            "submitter": {"email": t.submitter_email, "name": t.submitter_name},
            "assignee": (
                None
                if t.assignee_email is None
                else {"email": t.assignee_email, "name": t.assignee_name}
            ),
            "team": t.team,
            "labels": t.tags,
            "created_at": t.created_at.isoformat(),
            "updated_at": t.updated_at.isoformat(),
            "resolved_at": _time(t.resolved_at),
            "closed_at": _time(t.closed_at),
            "description": t.description,
            "custom_fields": values,
        }
        if self.comments:
            found["comments"] = comments
        return found

    def _row(self, t: _Ticket, values: dict[str, Any], comments: list[dict[str, Any]]) -> list[str]:
        cells = [
            str(t.number),
            t.title,
            t.status,
            t.type,
            t.priority,
            t.submitter_email,
            t.submitter_name,
            t.assignee_email or "",
            t.assignee_name or "",
            t.team or "",
            "; ".join(t.tags),
            t.created_at.isoformat(),
            t.updated_at.isoformat(),
            _time(t.resolved_at) or "",
            _time(t.closed_at) or "",
            t.description,
            *(_field_cell(values.get(key)) for key in self.field_keys),
        ]
        if self.comments:
            cells.append(json.dumps(comments, ensure_ascii=False))
        return [safe_cell(cell) for cell in cells]

    @staticmethod
    def _csv(rows: list[list[str]]) -> bytes:
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(rows)
        return out.getvalue().encode()


async def _requester(conn: Connection, job: _Job) -> Actor:
    """Who asked, as they are now: still staff, and still an admin if notes were asked for."""
    found = await fetch_optional(conn, _Requester, Q.requester, {"user_id": job.requested_by})
    if found is None or found.role == "user":
        raise GiveUp("The export's requester is no longer an active member of staff.")
    if job.include_internal_notes and found.role != "admin":
        raise GiveUp("Internal notes were asked for by someone who is no longer an admin.")
    return Actor(id=found.id, email=found.email, name=found.name, role=found.role)


async def write_export(
    pool: AsyncConnectionPool, storage: AttachmentStorage, export_id: UUID
) -> None:
    """Write the file of the export ``export_id`` and mark it done; nothing if it is gone
    or ended. ``GiveUp`` when it cannot be written as asked (its requester lost the role,
    a custom field it filters by was deleted)."""
    async with db.connection(pool) as conn:
        job = await fetch_optional(conn, _Job, Q.export_job, {"export_id": export_id})
        if job is None:
            return
        actor = await _requester(conn, job)
        filters = service.ticket_filters(ViewFilters.model_validate(job.filters))
        try:
            condition, params = await listing.matching_condition(conn, actor, filters)
        except TicketdeskError as exc:
            raise GiveUp(f"The export's filters cannot be applied now: {exc.detail}") from exc
        scope = await fetch_one(
            conn, _Scope, sql.SQL(Q.export_scope).format(where=condition), params
        )
        started = await execute(
            conn, Q.start_export, {"export_id": export_id, "rows_total": scope.total}
        )
        if not started:
            return
        keys = [f.key for f in await fields.list_fields(conn, staff=True)]
        encoder = _Encoder(job.format, keys, job.include_comments)
        written = {"rows": 0, "bytes": 0}
        batch_query = sql.SQL(Q.ticket_batch).format(where=condition)

        async def chunks() -> AsyncIterator[bytes]:
            header = encoder.header()
            written["bytes"] += len(header)
            if header:
                yield header
            after = 0
            while True:
                tickets = await fetch_all(
                    conn,
                    _Ticket,
                    batch_query,
                    {
                        **params,
                        "after_number": after,
                        "last_number": scope.last_number,
                        "batch_size": BATCH,
                    },
                )
                if not tickets:
                    return
                ids = [t.id for t in tickets]
                values = await fields.values_for(conn, ids, staff=True)
                comments: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
                if job.include_comments:
                    for comment in await fetch_all(
                        conn,
                        _Comment,
                        Q.batch_comments,
                        {"ticket_ids": ids, "notes": job.include_internal_notes},
                    ):
                        comments[comment.ticket_id].append(_comment(comment))
                chunk = encoder.batch(tickets, values, comments)
                written["rows"] += len(tickets)
                written["bytes"] += len(chunk)
                yield chunk
                after = tickets[-1].number
                progress = {"export_id": export_id, "rows_done": written["rows"]}
                if not await execute(conn, Q.export_progress, progress):
                    raise _Deleted

        key = service.storage_key(export_id)
        try:
            await storage.write(key, chunks())
        except _Deleted:
            return
        finished = await execute(
            conn,
            Q.finish_export,
            {
                "export_id": export_id,
                "rows_done": written["rows"],
                "size_bytes": written["bytes"],
                "keep": service.KEEP,
            },
        )
        if not finished:
            # Deleted as its last part went up.
            await storage.delete(key)
