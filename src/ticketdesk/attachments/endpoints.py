"""A ticket's files: upload, list, download, delete."""

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response, status
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials

from ticketdesk.attachments import service
from ticketdesk.attachments.multipart import FormReader
from ticketdesk.attachments.schemas import Attachment
from ticketdesk.attachments.service import FORM_FIELD, MAX_FILES, UploadRules
from ticketdesk.attachments.sniffing import ascii_name
from ticketdesk.attachments.storage import Storage
from ticketdesk.auth.dependencies import (
    Audit,
    CurrentUser,
    SigningSecret,
    bearer_scheme,
    current_actor,
    optional_actor,
    session_cookie_scheme,
)
from ticketdesk.auth.service import Actor
from ticketdesk.config import AppSettings
from ticketdesk.db import Pool, Transaction, transaction
from ticketdesk.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooLarge,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
    problem_responses,
)
from ticketdesk.tickets.access import get_readable_ticket, get_visible_ticket
from ticketdesk.tickets.schemas import Ticket, TicketRef

log = logging.getLogger(__name__)

router = APIRouter(tags=["attachments"])

_UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": [FORM_FIELD],
                "properties": {
                    FORM_FIELD: {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": MAX_FILES,
                        "items": {"type": "string", "format": "binary"},
                        "description": "The files; each at most tickets.max_attachment_size_mb.",
                    }
                },
            }
        }
    },
}
_DOWNLOAD_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            "The file's bytes, as a download (`Content-Disposition: attachment`), served as"
            " the media type sniffed from them at upload: one of `allowed_attachment_types`."
        ),
        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
    }
}
# RFC 5987 attr-char: what may stand unescaped in filename*.
_ATTR_CHARS = "!#$&+-.^_`|~"


def content_disposition(filename: str) -> str:
    """``attachment``, with the name in ``filename*`` and an ASCII stand-in for old clients."""
    return (
        f'attachment; filename="{ascii_name(filename)}"; '
        f"filename*=UTF-8''{quote(filename, safe=_ATTR_CHARS)}"
    )


@dataclass(frozen=True)
class _UploadTarget:
    actor: Actor
    ticket: Ticket
    rules: UploadRules


async def _upload_target(
    request: Request,
    id: TicketRef,
    pool: Pool,
    secret: SigningSecret,
    settings: AppSettings,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    session_token: Annotated[str | None, Depends(session_cookie_scheme)],
) -> _UploadTarget:
    """The caller, their ticket and the rules, checked before any of the body is read.

    This uses a connection of its own that goes back to the pool straight away, instead
    of the request's transaction: a large upload can take minutes, and holding a
    connection with an open transaction that long would starve everyone else.
    """
    async with transaction(pool) as conn:
        caller = await optional_actor(request, conn, secret, bearer, session_token)
        actor = await current_actor(caller)
        rules = await service.upload_rules(conn, settings, actor.id)
        ticket = _not_merged(await get_visible_ticket(conn, actor, id))
    length = request.headers.get("content-length", "")
    if length.isdecimal() and int(length) > rules.max_body_bytes:
        raise TooLarge(
            f"The request body is over the limit of {rules.max_body_bytes} bytes "
            f"({rules.max_files} files of at most {rules.max_file_bytes} bytes).",
            code="request_too_large",
        )
    return _UploadTarget(actor=actor, ticket=ticket, rules=rules)


def _not_merged(ticket: Ticket) -> Ticket:
    """``ticket``, unless it is a merged duplicate: its files went to the main ticket."""
    if ticket.merged_into_id is not None:
        raise Conflict(
            "This ticket was merged into another ticket; attach files there.",
            code="ticket_merged",
            field="files",
        )
    return ticket


@router.post(
    "/tickets/{id}/attachments",
    status_code=status.HTTP_201_CREATED,
    operation_id="uploadAttachments",
    responses=problem_responses(
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        TooLarge,
        UnsupportedMediaType,
        InvalidInput,
        Unavailable,
    ),
    openapi_extra={"requestBody": _UPLOAD_BODY},
)
async def upload_attachments(
    request: Request,
    target: Annotated[_UploadTarget, Depends(_upload_target)],
    pool: Pool,
    storage: Storage,
) -> list[Attachment]:
    """Attach up to five files to a ticket (multipart/form-data, field ``files``).

    Each file's type is sniffed from its bytes and must be on the allow-list and agree
    with its name and declared type. All files are stored, or none.
    """
    form = FormReader(
        request.headers.get("content-type"),
        request.stream(),
        max_bytes=target.rules.max_body_bytes,
    )
    async with (
        service.received_files(form, storage, target.ticket.id, target.rules) as uploads,
        transaction(pool) as conn,
    ):
        # Locked and checked again: the ticket may have changed while the files arrived.
        ticket = _not_merged(
            await get_visible_ticket(conn, target.actor, str(target.ticket.id), for_update=True)
        )
        return await service.record_uploads(
            conn, target.actor, ticket, uploads, quota_bytes=target.rules.quota_bytes
        )


@router.get(
    "/tickets/{id}/attachments",
    operation_id="listAttachments",
    responses=problem_responses(Unauthorized, NotFound),
)
async def list_attachments(
    id: TicketRef, actor: CurrentUser, conn: Transaction
) -> list[Attachment]:
    """A ticket's files, oldest first."""
    ticket = await get_readable_ticket(conn, actor, id)
    return await service.list_attachments(conn, ticket.id)


@router.get(
    "/tickets/{id}/attachments/{attachment_id}/download",
    operation_id="downloadAttachment",
    response_class=StreamingResponse,
    responses={**_DOWNLOAD_RESPONSE, **problem_responses(Unauthorized, NotFound)},
)
async def download_attachment(
    id: TicketRef, attachment_id: UUID, actor: CurrentUser, conn: Transaction, storage: Storage
) -> StreamingResponse:
    """A file's bytes, always as a download (``Content-Disposition: attachment``)."""
    ticket = await get_readable_ticket(conn, actor, id)
    attachment = await service.get_attachment(conn, ticket, attachment_id)
    try:
        stored = await storage.read(attachment.storage_key)
    except FileNotFoundError:
        log.error("attachment %s has a row but no object %s", attachment.id, attachment.storage_key)
        raise NotFound(
            "The file's content is missing from storage.", code="attachment_content_missing"
        ) from None
    return StreamingResponse(
        stored.chunks,
        media_type=attachment.media_type,
        headers={
            "Content-Disposition": content_disposition(attachment.filename),
            "Content-Length": str(stored.size),
            "X-Content-Type-Options": "nosniff",
            # Should a browser render it anyway, it runs nothing and loads nothing.
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "ETag": f'"{attachment.sha256}"',
            "Cache-Control": "private, no-cache",
        },
    )


@router.delete(
    "/tickets/{id}/attachments/{attachment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="deleteAttachment",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def delete_attachment(
    id: TicketRef,
    attachment_id: UUID,
    actor: CurrentUser,
    conn: Transaction,
    storage: Storage,
    settings: AppSettings,
    background: BackgroundTasks,
    audit: Audit,
) -> Response:
    """Delete a file: staff at any time, the uploader for a while after adding it."""
    window = timedelta(minutes=settings.tickets.attachment_delete_window_minutes)
    ticket = await get_visible_ticket(conn, actor, id, for_update=True)
    removed = await service.delete_attachment(
        conn, actor, ticket, attachment_id, uploader_window=window
    )
    await audit(
        "attachment.deleted",
        "attachment",
        removed.id,
        before=removed.model_dump(mode="json", exclude={"storage_key"}),
    )
    # Background tasks run after the transaction has committed: a failed commit keeps
    # the bytes, and a failed removal leaves an orphan for the sweep, never a dead row.
    background.add_task(storage.delete_all, [removed.storage_key])
    return Response(status_code=status.HTTP_204_NO_CONTENT)
