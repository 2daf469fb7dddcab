"""Files attached to tickets: receiving them, recording them, deleting them, sweeping orphans.

An upload happens in two steps. The form's files are streamed into storage while
being counted, hashed and sniffed (``received_files``); only then are the rows and
events written, in one transaction (``record_uploads``). Whatever fails on the way —
a refused file, a cut-off body, a database error — the objects written so far are
removed again, so there is never a row without its bytes or bytes without their row.
Should the process die between the two steps, ``remove_orphans`` finds the leftovers.
"""

import dataclasses
import hashlib
import re
import unicodedata
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import anyio
import uuid_utils

from ticketdesk.attachments.multipart import FormReader
from ticketdesk.attachments.schemas import Attachment, StoredAttachment
from ticketdesk.attachments.sniffing import SNIFF_BYTES, TextCheck, media_type_of
from ticketdesk.attachments.storage import AttachmentStorage, new_key
from ticketdesk.auth.service import Actor
from ticketdesk.changes import Change, record_change
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.errors import Forbidden, InvalidInput, NotFound, TooLarge
from ticketdesk.sql import (
    execute,
    fetch_all,
    fetch_one,
    fetch_optional,
    fetch_value,
    fetch_values,
    load_queries,
)
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.schemas import Ticket

Q = load_queries(__package__)

FORM_FIELD = "files"
MAX_FILES = 5
# Room in a request body for the multipart boundaries and part headers.
FORM_OVERHEAD_BYTES = 64 * 1024
MAX_FILENAME_CHARS = 255
ORPHAN_AGE = timedelta(days=1)

# Characters that must not reach a display name: control characters, line and
# paragraph separators, and format characters such as bidi overrides (U+202E can make
# "evil<U+202E>gpj.exe" read as "evilexe.jpg"). The zero-width joiners of emoji stay.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_KEPT_FORMAT = frozenset({"\u200c", "\u200d"})
_PATH_SEPARATORS = re.compile(r"[/\\]")


@dataclass(frozen=True)
class UploadRules:
    """What an upload may contain."""

    max_file_bytes: int
    allowed_types: frozenset[str]
    max_files: int = MAX_FILES
    # What the uploader's files may add up to (None: no limit), and what they hold already.
    quota_bytes: int | None = None
    used_bytes: int = 0

    @property
    def max_body_bytes(self) -> int:
        """The largest request body a permitted upload can need."""
        return self.max_files * self.max_file_bytes + FORM_OVERHEAD_BYTES

    @property
    def room_bytes(self) -> int | None:
        """How much more the uploader may store, or ``None`` for no limit."""
        return None if self.quota_bytes is None else max(self.quota_bytes - self.used_bytes, 0)

    def after(self, upload: "StoredUpload") -> "UploadRules":
        """The rules for the uploader's next file, once ``upload`` is stored."""
        return dataclasses.replace(self, used_bytes=self.used_bytes + upload.size_bytes)

    @classmethod
    def from_settings(cls, settings: Settings) -> "UploadRules":
        """The configured rules; a 403 when attachments are switched off."""
        if not settings.tickets.allow_attachments:
            raise Forbidden(
                "Attachments are switched off on this server.", code="attachments_disabled"
            )
        return cls(
            max_file_bytes=settings.max_attachment_bytes,
            allowed_types=frozenset(settings.tickets.allowed_attachment_types),
            quota_bytes=settings.attachment_quota_bytes,
        )


async def upload_rules(conn: Connection, settings: Settings, uploader_id: UUID) -> UploadRules:
    """The configured rules for one uploader, with what their files already take up."""
    rules = UploadRules.from_settings(settings)
    if rules.quota_bytes is None:
        return rules
    used = await fetch_value(conn, int, Q.uploader_storage_bytes, {"uploader_id": uploader_id})
    return dataclasses.replace(rules, used_bytes=used)


def _over_quota(quota_bytes: int, used_bytes: int) -> TooLarge:
    return TooLarge(
        f"Your files would take up more than your storage quota of "
        f"{quota_bytes // (1024 * 1024)} MB ({used_bytes} bytes are in use); "
        "delete some or ask staff for help.",
        code="attachment_quota_exceeded",
        field=FORM_FIELD,
    )


@dataclass(frozen=True)
class StoredUpload:
    """A file whose bytes are in storage and whose row is not written yet."""

    storage_key: str
    filename: str
    media_type: str
    size_bytes: int
    sha256: str


def display_name(raw: str | None) -> str:
    """A client's file name made safe to show and to offer back in a download."""
    name = unicodedata.normalize("NFC", raw or "")
    name = _PATH_SEPARATORS.split(name)[-1]
    name = "".join(
        char
        for char in name
        if char in _KEPT_FORMAT or unicodedata.category(char) not in _DROPPED_CATEGORIES
    ).strip()
    if not name.strip("."):
        return "file"
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= 16:
            name = f"{stem[: MAX_FILENAME_CHARS - len(extension) - 1].rstrip()}.{extension}"
        else:
            name = name[:MAX_FILENAME_CHARS]
    return name


class _IncomingFile:
    """One file of a form, checked while it streams past: size, hash and type."""

    def __init__(self, filename: str | None, declared: str | None, rules: UploadRules) -> None:
        self.filename = display_name(filename)
        self._declared = declared
        self._rules = rules
        self._size = 0
        self._sha256 = hashlib.sha256()
        self._media_type: str | None = None
        self._text: TextCheck | None = None

    def _count(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._rules.max_file_bytes:
            raise TooLarge(
                f"{self.filename} is over the limit of {self._rules.max_file_bytes} bytes.",
                code="attachment_too_large",
                field=FORM_FIELD,
            )
        room = self._rules.room_bytes
        if room is not None and self._size > room:
            assert self._rules.quota_bytes is not None
            raise _over_quota(self._rules.quota_bytes, self._rules.used_bytes)
        self._sha256.update(chunk)

    def _decide(self, head: bytes, *, complete: bool) -> None:
        self._media_type = media_type_of(
            head,
            filename=self.filename,
            declared=self._declared,
            allowed=self._rules.allowed_types,
            complete=complete,
        )
        if self._media_type.startswith("text/") or self._media_type == "application/json":
            self._text = TextCheck()

    def _check(self, chunk: bytes) -> bytes:
        if self._text is not None:
            self._text.feed(chunk)
        return chunk

    async def checked(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """Pass ``chunks`` on, raising as soon as the file breaks a rule."""
        head = bytearray()
        async for chunk in chunks:
            self._count(chunk)
            if self._media_type is None:
                # Hold back the first bytes until there are enough to tell the type.
                head += chunk
                if len(head) < SNIFF_BYTES:
                    continue
                # Only the first bytes decide, however the body happened to be chunked.
                chunk = bytes(head)
                head.clear()
                self._decide(chunk[:SNIFF_BYTES], complete=False)
            yield self._check(chunk)
        if self._size == 0:
            raise InvalidInput(f"{self.filename} is empty.", code="empty_file", field=FORM_FIELD)
        if self._media_type is None:
            self._decide(bytes(head), complete=True)
            yield self._check(bytes(head))
        if self._text is not None:
            self._text.feed(b"", final=True)

    def stored_as(self, key: str) -> StoredUpload:
        """What was stored, once the whole file has passed."""
        assert self._media_type is not None
        return StoredUpload(
            storage_key=key,
            filename=self.filename,
            media_type=self._media_type,
            size_bytes=self._size,
            sha256=self._sha256.hexdigest(),
        )


async def _remove(storage: AttachmentStorage, keys: Collection[str]) -> None:
    # Shielded: this also runs when the request is cancelled, and must not be cut short.
    with anyio.CancelScope(shield=True):
        await storage.delete_all(keys)


async def _store_files(
    form: FormReader, storage: AttachmentStorage, ticket_id: UUID, rules: UploadRules
) -> list[StoredUpload]:
    stored: list[StoredUpload] = []
    started: list[str] = []
    try:
        while (part := await form.next_part()) is not None:
            if part.name != FORM_FIELD:
                raise InvalidInput(
                    f"Unexpected form field {part.name!r}; send files as {FORM_FIELD!r}.",
                    code="unexpected_field",
                    field=part.name,
                )
            if len(stored) == rules.max_files:
                raise InvalidInput(
                    f"At most {rules.max_files} files may be uploaded at once.",
                    code="too_many_files",
                    field=FORM_FIELD,
                )
            incoming = _IncomingFile(part.filename, part.content_type, rules)
            key = new_key(ticket_id)
            started.append(key)
            await storage.write(key, incoming.checked(form.part_data()))
            stored.append(incoming.stored_as(key))
            rules = rules.after(stored[-1])
        if not stored:
            raise InvalidInput("Attach at least one file.", code="no_files", field=FORM_FIELD)
    except BaseException:
        await _remove(storage, started)
        raise
    return stored


async def store_file(
    storage: AttachmentStorage,
    ticket_id: UUID,
    rules: UploadRules,
    *,
    filename: str | None,
    declared_type: str | None,
    content: bytes,
) -> StoredUpload:
    """Store one file that arrived whole (attached to a mail), checked by the same rules
    as an upload; nothing is left in storage when it is refused."""
    incoming = _IncomingFile(filename, declared_type, rules)

    async def chunks() -> AsyncIterator[bytes]:
        yield content

    key = new_key(ticket_id)
    try:
        await storage.write(key, incoming.checked(chunks()))
    except BaseException:
        await _remove(storage, [key])
        raise
    return incoming.stored_as(key)


async def remove_stored(storage: AttachmentStorage, uploads: list[StoredUpload]) -> None:
    """Remove files stored for rows that will not be written after all."""
    await _remove(storage, [upload.storage_key for upload in uploads])


@asynccontextmanager
async def received_files(
    form: FormReader, storage: AttachmentStorage, ticket_id: UUID, rules: UploadRules
) -> AsyncIterator[list[StoredUpload]]:
    """Stream the form's files into storage; if the ``with`` block fails, remove them again."""
    stored = await _store_files(form, storage, ticket_id, rules)
    try:
        yield stored
    except BaseException:
        await _remove(storage, [upload.storage_key for upload in stored])
        raise


async def record_uploads(
    conn: Connection,
    actor: Actor,
    ticket: Ticket,
    uploads: list[StoredUpload],
    *,
    quota_bytes: int | None,
) -> list[Attachment]:
    """Write the rows and ``attachment_added`` events for files already in storage.

    The quota is checked again here, under a lock per uploader: two uploads streamed at
    once each passed it alone, and only one of them may be recorded if both do not fit.
    """
    if quota_bytes is not None:
        params = {"uploader_id": actor.id}
        await execute(conn, Q.lock_uploader_storage, params)
        used = await fetch_value(conn, int, Q.uploader_storage_bytes, params)
        if used + sum(upload.size_bytes for upload in uploads) > quota_bytes:
            raise _over_quota(quota_bytes, used)
    attachments = []
    for upload in uploads:
        attachment = await fetch_one(
            conn,
            Attachment,
            Q.insert_attachment,
            {
                # Ids from this process's clock, which orders them as uploaded even
                # within one millisecond (the database's uuidv7() does not): a ticket
                # lists its files by creation time, then id.
                "id": UUID(str(uuid_utils.uuid7())),
                "ticket_id": ticket.id,
                "uploader_id": actor.id,
                "filename": upload.filename,
                "media_type": upload.media_type,
                "size_bytes": upload.size_bytes,
                "sha256": upload.sha256,
                "storage_key": upload.storage_key,
            },
        )
        attachments.append(attachment)
        await record_change(
            conn,
            Change(
                ticket_id=ticket.id,
                kind="attachment_added",
                actor_id=actor.id,
                data={
                    "attachment_id": str(attachment.id),
                    "filename": attachment.filename,
                    "media_type": attachment.media_type,
                    "size_bytes": attachment.size_bytes,
                },
            ),
        )
    await tickets.touch(conn, ticket.id)
    return attachments


async def list_attachments(conn: Connection, ticket_id: UUID) -> list[Attachment]:
    """A ticket's files, oldest first."""
    return await fetch_all(conn, Attachment, Q.list_attachments, {"ticket_id": ticket_id})


async def get_attachment(conn: Connection, ticket: Ticket, attachment_id: UUID) -> StoredAttachment:
    """One file of a ticket the caller may see, with its storage key."""
    attachment = await fetch_optional(
        conn,
        StoredAttachment,
        Q.get_attachment,
        {"ticket_id": ticket.id, "attachment_id": attachment_id},
    )
    if attachment is None:
        raise NotFound(
            f"Attachment {attachment_id} does not exist on this ticket.",
            code="attachment_not_found",
        )
    return attachment


async def delete_attachment(
    conn: Connection,
    actor: Actor,
    ticket: Ticket,
    attachment_id: UUID,
    *,
    uploader_window: timedelta,
) -> StoredAttachment:
    """Remove a file's row and record it; staff always may, the uploader only for a while.

    The caller removes the bytes once the transaction has committed, so a rolled-back
    delete never loses them.
    """
    attachment = await get_attachment(conn, ticket, attachment_id)
    if not actor.is_staff:
        if attachment.uploader_id != actor.id:
            raise Forbidden(
                "Only agents, admins and the uploader may delete an attachment.",
                code="attachment_delete_forbidden",
            )
        if datetime.now(UTC) - attachment.created_at > uploader_window:
            minutes = int(uploader_window.total_seconds() // 60)
            raise Forbidden(
                f"Uploaders may delete a file for {minutes} minutes after adding it; "
                "ask an agent to remove it.",
                code="attachment_delete_window_passed",
            )
    await execute(conn, Q.delete_attachment, {"attachment_id": attachment.id})
    await tickets.touch(conn, ticket.id)
    await record_change(
        conn,
        Change(
            ticket_id=ticket.id,
            kind="attachment_deleted",
            actor_id=actor.id,
            data={"attachment_id": str(attachment.id), "filename": attachment.filename},
        ),
    )
    return attachment


async def remove_orphans(
    conn: Connection, storage: AttachmentStorage, older_than: timedelta = ORPHAN_AGE
) -> int:
    """Remove stored objects that no row names and that are older than ``older_than``.

    Young objects are left alone: they may belong to an upload whose rows are about to
    be committed. Returns how many objects were removed.
    """
    cutoff = datetime.now(UTC) - older_than
    removed = 0
    async for batch in storage.objects():
        old = [key for key, modified in batch if modified < cutoff]
        if not old:
            continue
        known = set(await fetch_values(conn, str, Q.known_storage_keys, {"keys": old}))
        removed += await storage.delete_all(key for key in old if key not in known)
    return removed + await storage.remove_stale_partials(cutoff)


async def move_attachments(conn: Connection, from_id: UUID, to_id: UUID) -> list[UUID]:
    """Move every file of ticket ``from_id`` to ``to_id`` (both locked; a merge); their ids."""
    return await fetch_values(conn, UUID, Q.move_attachments, {"from_id": from_id, "to_id": to_id})


async def move_attachments_back(
    conn: Connection, ids: list[UUID], from_id: UUID, to_id: UUID
) -> list[UUID]:
    """Move the files ``ids`` still on ``from_id`` to ``to_id``; the ids moved."""
    return await fetch_values(
        conn, UUID, Q.move_attachments_back, {"ids": ids, "from_id": from_id, "to_id": to_id}
    )
