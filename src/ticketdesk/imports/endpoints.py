"""Importing tickets from a CSV file (admins): upload, dry run, apply."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, status

from ticketdesk.auth.dependencies import Audit, CurrentAdmin
from ticketdesk.config import AppSettings
from ticketdesk.db import Transaction
from ticketdesk.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooLarge,
    Unauthorized,
    UnsupportedMediaType,
    problem_responses,
)
from ticketdesk.imports import csv_files, service
from ticketdesk.imports.schemas import DryRun, ImportedTicketRef, ImportMapping, ImportUpload

router = APIRouter(tags=["imports"])

_CSV_TYPES = ("text/csv", "application/csv", "text/plain")


@router.post(
    "/imports",
    status_code=status.HTTP_201_CREATED,
    operation_id="uploadImport",
    responses=problem_responses(
        Unauthorized, Forbidden, TooLarge, UnsupportedMediaType, InvalidInput
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": (
                "The CSV file (UTF-8, a header row and at least one row below it; at most"
                " 20 MB and 50,000 rows)."
            ),
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def upload_import(
    request: Request,
    actor: CurrentAdmin,
    conn: Transaction,
    filename: Annotated[str, Query(max_length=255, pattern=r"^[^\x00]*$")] = "",
) -> ImportUpload:
    """Upload a CSV file of tickets to import: its columns and first rows, to map (admins)."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in _CSV_TYPES:
        raise UnsupportedMediaType(
            "Send the file as text/csv.", code="unsupported_media_type", field="Content-Type"
        )
    data = await request.body()
    return await csv_files.upload(conn, actor_id=actor.id, filename=filename, data=data)


@router.get(
    "/imports/{import_id}",
    operation_id="getImport",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def get_import(import_id: UUID, actor: CurrentAdmin, conn: Transaction) -> ImportUpload:
    """An uploaded file: its columns, its first rows until it is imported, its result (admins)."""
    return await csv_files.get_upload(conn, import_id)


@router.post(
    "/imports/{import_id}/dry-run",
    operation_id="dryRunImport",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict, InvalidInput),
)
async def dry_run_import(
    import_id: UUID,
    body: ImportMapping,
    actor: CurrentAdmin,
    conn: Transaction,
    settings: AppSettings,
) -> DryRun:
    """What importing the file with this mapping would do, each failing row with its
    field and column; nothing is written (admins)."""
    return await csv_files.dry_run(
        conn, import_id, body, internal_domains=settings.internal_email_domains
    )


@router.post(
    "/imports/{import_id}/apply",
    operation_id="applyImport",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict, InvalidInput),
)
async def apply_import(
    import_id: UUID,
    body: ImportMapping,
    actor: CurrentAdmin,
    conn: Transaction,
    settings: AppSettings,
    audit: Audit,
) -> ImportUpload:
    """Import every row of the file with this mapping, or none if any would fail (409
    `import_rows_invalid`); rows whose external id was imported before are skipped. No
    mail, GitHub issue or webhook is sent for the imported tickets (admins)."""
    applied = await csv_files.apply(
        conn,
        import_id,
        body,
        actor_id=actor.id,
        internal_domains=settings.internal_email_domains,
    )
    await audit("import.applied", "import", import_id, after=applied)
    return applied


@router.get(
    "/imports/{import_id}/tickets",
    operation_id="listImportedTickets",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def list_imported_tickets(
    import_id: UUID,
    actor: CurrentAdmin,
    conn: Transaction,
    after_row: Annotated[int, Query(ge=0, description="The last row of the previous page.")] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ImportedTicketRef]:
    """The tickets an import created, in the file's order (admins)."""
    await service.get_import(conn, import_id, source=csv_files.SOURCE)
    return await service.tickets_of_import(conn, import_id, after_row=after_row, limit=limit)
