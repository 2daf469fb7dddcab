"""Exports: staff ask for a file of tickets, follow its job and download it."""

import logging
from typing import Any
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Response, status
from fastapi.responses import StreamingResponse

from ticketdesk.attachments.storage import Storage
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
from ticketdesk.exports import service
from ticketdesk.exports.schemas import Export, ExportCreate

log = logging.getLogger(__name__)

router = APIRouter(tags=["exports"])

_DOWNLOAD_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file, as a download (`Content-Disposition: attachment`): "
        "`text/csv` or `application/x-ndjson` (JSON Lines).",
        "content": {
            "text/csv": {"schema": {"type": "string", "format": "binary"}},
            "application/x-ndjson": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.post(
    "/exports",
    status_code=status.HTTP_201_CREATED,
    operation_id="createExport",
    responses=problem_responses(Unauthorized, Forbidden, InvalidInput),
)
async def create_export(
    body: ExportCreate, actor: CurrentAgent, conn: Transaction, audit: Audit
) -> Export:
    """Export the tickets matching the filters, as CSV or JSON Lines, in the background
    (staff; internal notes for admins only). Follow it at `GET /exports/{export_id}`."""
    export = await service.create_export(conn, actor, body)
    await audit("export.created", "export", export.id, after=export)
    return export


@router.get(
    "/exports",
    operation_id="listExports",
    responses=problem_responses(Unauthorized, Forbidden),
)
async def list_exports(actor: CurrentAgent, conn: Transaction) -> list[Export]:
    """The 100 newest exports: your own (admins: everyone's)."""
    return await service.list_exports(conn, actor)


@router.get(
    "/exports/{export_id}",
    operation_id="getExport",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def get_export(export_id: UUID, actor: CurrentAgent, conn: Transaction) -> Export:
    """An export and its progress (its creator and admins)."""
    return await service.get_export(conn, actor, export_id)


@router.get(
    "/exports/{export_id}/download",
    operation_id="downloadExport",
    response_class=StreamingResponse,
    responses={
        **_DOWNLOAD_RESPONSE,
        **problem_responses(Unauthorized, Forbidden, NotFound, Conflict),
    },
)
async def download_export(
    export_id: UUID, actor: CurrentAgent, conn: Transaction, storage: Storage
) -> StreamingResponse:
    """A finished export's file (its creator and admins; 409 until it is done)."""
    found = await service.download(conn, actor, export_id)
    try:
        stored = await storage.read(found.key)
    except FileNotFoundError:
        log.error("export %s is done but has no object %s", export_id, found.key)
        raise NotFound(
            "The export's file is missing from storage.", code="export_file_missing"
        ) from None
    return StreamingResponse(
        stored.chunks,
        media_type=found.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{found.filename}"',
            "Content-Length": str(stored.size),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-cache",
        },
    )


@router.delete(
    "/exports/{export_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="deleteExport",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def delete_export(
    export_id: UUID,
    actor: CurrentAgent,
    conn: Transaction,
    storage: Storage,
    background: BackgroundTasks,
    audit: Audit,
) -> Response:
    """Delete an export and its file (its creator and admins); a running one stops."""
    before = await service.get_export(conn, actor, export_id)
    key = await service.delete_export(conn, actor, export_id)
    await audit("export.deleted", "export", export_id, before=before)
    # After the commit: a failed commit keeps the file, a failed removal leaves an
    # object the hourly sweep removes.
    background.add_task(storage.delete_all, [key])
    return Response(status_code=status.HTTP_204_NO_CONTENT)
