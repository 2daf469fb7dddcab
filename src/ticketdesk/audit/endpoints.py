"""The audit trail, for admins: read and export only. No route writes, changes or deletes
an entry; the table's trigger refuses that to anyone but the retention job."""

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, StringConstraints

from ticketdesk.audit import service
from ticketdesk.audit.schemas import AuditEntry, AuditPage, ExportFormat
from ticketdesk.auth.dependencies import Audit, CurrentAdmin
from ticketdesk.db import Pool, Transaction
from ticketdesk.errors import Forbidden, InvalidInput, Unauthorized, problem_responses
from ticketdesk.validation import PlainDateTime, PlainInteger

router = APIRouter(tags=["admin"])

Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def _filters(
    actor: Annotated[UUID | None, Query(description="The actor's user id.")] = None,
    action: Annotated[
        Text | None, Query(description="A prefix of the action: `webhook.` or `user.role_changed`.")
    ] = None,
    target_type: Annotated[Text | None, Query(description="`user`, `webhook` …")] = None,
    target_id: Annotated[Text | None, Query()] = None,
    since: Annotated[
        AwareDatetime | None, Query(description="From this time on."), PlainDateTime
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="Before this time."), PlainDateTime
    ] = None,
    q: Annotated[
        Text | None,
        Query(description="Text anywhere in the action, the target or either state, any case."),
    ] = None,
) -> service.Filters:
    if since is not None and until is not None and until <= since:
        raise InvalidInput("until must be after since.", code="bad_range", field="until")
    return service.Filters(
        actor_id=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        since=since,
        until=until,
        q=q,
    )


Filters = Annotated[service.Filters, Depends(_filters)]


@router.get(
    "/audit",
    operation_id="listAuditEntries",
    responses=problem_responses(Unauthorized, Forbidden, InvalidInput),
)
async def list_audit_entries(
    actor: CurrentAdmin,
    conn: Transaction,
    filters: Filters,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200), PlainInteger] = 50,
) -> AuditPage:
    """Administrative actions, newest first, filtered (admins)."""
    return await service.list_entries(conn, filters, cursor=cursor, limit=limit)


CSV_COLUMNS = [
    "id",
    "at",
    "actor_id",
    "actor_email",
    "actor_name",
    "client_address",
    "action",
    "target_type",
    "target_id",
    "before",
    "after",
]

_EXPORT_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            "The entries the filters take, newest first: CSV with a header row (`before` and"
            " `after` as JSON text), or a JSON array of entries."
        ),
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {
                "schema": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEntry"}}
            },
        },
    }
}


def _csv_line(values: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


# A cell starting with one of these is a formula to a spreadsheet: names, emails and
# addresses come from users, so such a cell is opened as text, behind a quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


async def _as_csv(entries: AsyncIterator[AuditEntry]) -> AsyncIterator[str]:
    yield _csv_line(CSV_COLUMNS)
    async for entry in entries:
        row = entry.model_dump()
        yield _csv_line([_csv_value(row[column]) for column in CSV_COLUMNS])


async def _as_json(entries: AsyncIterator[AuditEntry]) -> AsyncIterator[str]:
    yield "["
    separator = ""
    async for entry in entries:
        yield separator + entry.model_dump_json()
        separator = ","
    yield "]"


@router.get(
    "/audit/export",
    operation_id="exportAuditEntries",
    response_class=StreamingResponse,
    responses={**_EXPORT_RESPONSE, **problem_responses(Unauthorized, Forbidden, InvalidInput)},
)
async def export_audit_entries(
    actor: CurrentAdmin,
    audit: Audit,
    pool: Pool,
    filters: Filters,
    format: ExportFormat = "csv",
) -> StreamingResponse:
    """Every entry the filters take, newest first, as a streamed download (admins). The
    export is itself recorded, as ``audit.exported``."""
    await audit(
        "audit.exported", "audit_log", None, after={"format": format, **_described(filters)}
    )
    entries = service.stream_entries(pool, filters)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    media_type = "text/csv; charset=utf-8" if format == "csv" else "application/json"
    body = _as_csv(entries) if format == "csv" else _as_json(entries)
    return StreamingResponse(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="audit-{stamp}.{format}"',
            "Cache-Control": "no-store",
        },
    )


def _described(filters: service.Filters) -> dict[str, Any]:
    """The filters that are on, as JSON values."""
    values = {
        "actor": filters.actor_id,
        "action": filters.action,
        "target_type": filters.target_type,
        "target_id": filters.target_id,
        "since": filters.since,
        "until": filters.until,
        "q": filters.q,
    }
    return {
        key: value.isoformat() if isinstance(value, datetime) else str(value)
        for key, value in values.items()
        if value is not None
    }
