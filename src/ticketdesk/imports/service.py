"""Importing tickets from other systems: check a batch of rows, then write all of them.

Every source (an uploaded CSV file, ``imports.csv_files``; another helpdesk's data)
turns what it reads into ``ImportRow`` values and hands them to ``check_rows`` (a dry
run: nothing is written) or ``apply_rows`` (all rows are written, in the caller's
transaction, or none: one failing row refuses the batch before anything is written).

What an imported ticket is: it keeps its creation time, status, assignee, labels and
custom field values, and gets the next ticket number. Its one event is ``created``
with ``data.imported`` naming the import; no change is announced to the subscribers, so
an import mails no one, mirrors nothing to GitHub and sends no webhook. SLA policies
and assignment rules do not apply to it. A submitter without an account gets one
(role user, no password, not mailed). A row whose external id an earlier import of the
same source brought in is skipped: importing the same rows again creates nothing twice.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
import uuid_utils
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from ticketdesk.changes import Change
from ticketdesk.comments import service as comments
from ticketdesk.db import Connection, constraint_name
from ticketdesk.errors import Conflict, InvalidInput, NotFound
from ticketdesk.events import service as events
from ticketdesk.fields import service as fields
from ticketdesk.fields.schemas import CustomField, FieldValue
from ticketdesk.imports.schemas import ImportedTicketRef, ImportResult, ImportUpload, RowError
from ticketdesk.labels import service as labels
from ticketdesk.sql import execute, fetch_all, fetch_one, fetch_optional, load_queries
from ticketdesk.tickets import service as tickets
from ticketdesk.users import service as users

Q = load_queries(__package__)

TICKET_TYPES = ("bug", "feature", "support")
PRIORITIES = ("low", "medium", "high", "critical")
STATUSES = ("open", "in_progress", "waiting", "resolved", "closed")
# The most errors a dry run lists; it still counts every failing row.
MAX_LISTED_ERRORS = 1000
# Rows written a statement: bounds the parameters sent at once.
WRITE_BATCH = 1000
_STAFF = ("agent", "admin")


@dataclass(frozen=True)
class ImportComment:
    """A comment on an imported ticket. Its author is found by address like a submitter
    (an unknown address gets an account); an internal note's author must be staff."""

    author_email: str
    body: str
    is_internal: bool = False
    # None: the ticket's creation time.
    created_at: datetime | None = None


@dataclass(frozen=True)
class ImportRow:
    """One ticket to import, as a source read it.

    ``row`` numbers it in the source (errors name it). ``type``, ``priority`` and
    ``status`` are ticketdesk's own words (a source translates its own first).
    ``labels`` are existing label names (any case). ``custom_fields`` are by key, values
    as the API takes them (``fields.schemas.FieldValue``). ``created_at`` None: now;
    ``resolved_at`` None on a resolved or closed ticket: ``created_at``.
    ``external_id``: the ticket's id in the source, which makes importing it again a
    no-op. ``problems``: what the source itself could not read in this row (field,
    message), reported with the rest.
    """

    row: int
    title: str
    description: str
    submitter_email: str
    type: str = "support"
    priority: str = "medium"
    status: str = "open"
    submitter_name: str | None = None
    assignee_email: str | None = None
    labels: tuple[str, ...] = ()
    custom_fields: dict[str, FieldValue] = field(default_factory=dict)
    created_at: datetime | None = None
    resolved_at: datetime | None = None
    comments: tuple[ImportComment, ...] = ()
    external_id: str | None = None
    problems: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class _Ready:
    """A row that passed every check, with the values it resolved to; people by their
    checked address until the accounts to create exist."""

    source: ImportRow
    submitter: str
    title: str
    description: str
    assignee_id: UUID | None
    tags: list[str]
    created_at: datetime
    fields: list[fields.Checked]
    comments: list[tuple[str, ImportComment]]


@dataclass
class CheckedRows:
    """What ``check_rows`` found: the rows ready to write, those imported before (by
    external id: their ticket numbers), the accounts to create and every error."""

    ready: list[_Ready] = field(default_factory=list)
    already_imported: dict[str, int] = field(default_factory=dict)
    # Address (as checked, lower case) → name, for people with no account yet; → id,
    # for those with one.
    new_people: dict[str, str] = field(default_factory=dict)
    people: dict[str, UUID] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    failing_rows: int = 0


class StoredImport(BaseModel):
    """An import as stored: its file's text until it is applied, and what it wrote."""

    id: UUID
    source: str
    filename: str
    content: str | None
    columns: list[str]
    row_count: int
    created_at: datetime
    applied_at: datetime | None
    result: dict[str, Any] | None


class _Person(BaseModel):
    id: UUID
    role: str
    is_active: bool


class _RowCheck:
    """The checks of one batch, with what they look up kept for the next rows."""

    def __init__(self, conn: Connection, source: str, internal_domains: list[str]) -> None:
        self.conn = conn
        self.source = source
        self.internal_domains = internal_domains
        self.people: dict[str, _Person | None] = {}
        self.addresses: dict[str, str | InvalidInput] = {}
        self.label_names: dict[str, str] | None = None
        self.custom_fields: list[CustomField] | None = None
        self.external_ids: set[str] = set()
        self.result = CheckedRows()

    async def person(self, address: str) -> _Person | None:
        key = address.lower()
        if key not in self.people:
            try:
                user = await users.get_user_by_email(self.conn, address)
            except NotFound:
                self.people[key] = None
            else:
                active = await users.active_person(self.conn, user_id=user.id)
                self.people[key] = _Person(id=user.id, role=user.role, is_active=bool(active))
        return self.people[key]

    async def label(self, name: str) -> str | None:
        if self.label_names is None:
            self.label_names = {
                label.name.lower(): label.name for label in await labels.list_labels(self.conn)
            }
        return self.label_names.get(name.lower())

    def address(self, value: str) -> str:
        """``value`` checked as mail address; ``InvalidInput`` if it is not one. Each
        address is checked once a batch (most submitters have many rows)."""
        if value not in self.addresses:
            try:
                self.addresses[value] = users.checked_email(value.strip(), self.internal_domains)
            except InvalidInput as exc:
                self.addresses[value] = exc
        found = self.addresses[value]
        if isinstance(found, InvalidInput):
            raise InvalidInput(found.detail, code=found.code, field=found.field)
        return found

    async def account(
        self, errors: list[tuple[str, str]], where: str, address: str, name: str | None
    ) -> str | None:
        """The checked address of an author who may be given tickets or comments: an
        active account's, or one to create (remembered in ``new_people``)."""
        try:
            checked = self.address(address)
        except InvalidInput as exc:
            errors.append((where, exc.detail))
            return None
        found = await self.person(checked)
        if found is None:
            fallback = checked.partition("@")[0][:100]
            self.result.new_people.setdefault(checked.lower(), (name or "").strip() or fallback)
        elif not found.is_active:
            errors.append((where, f"The account of {checked} is deactivated."))
            return None
        else:
            self.result.people[checked.lower()] = found.id
        return checked

    async def check(self, row: ImportRow) -> None:
        errors: list[tuple[str, str]] = list(row.problems)
        if row.external_id is not None:
            if row.external_id in self.external_ids:
                errors.append(("external_id", "An earlier row of this file has this external id."))
            self.external_ids.add(row.external_id)
        title, description = row.title.strip(), row.description.strip()
        if not 10 <= len(title) <= 200:
            errors.append(("title", f"Must be 10 to 200 characters (it has {len(title)})."))
        if not 20 <= len(description) <= 65536:
            errors.append(
                ("description", f"Must be 20 to 65,536 characters (it has {len(description)}).")
            )
        for name, value, allowed in (
            ("type", row.type, TICKET_TYPES),
            ("priority", row.priority, PRIORITIES),
            ("status", row.status, STATUSES),
        ):
            if value not in allowed:
                errors.append((name, f"{value!r} is not one of {', '.join(allowed)}."))
        submitter = await self.account(
            errors, "submitter_email", row.submitter_email, row.submitter_name
        )
        assignee_id = None
        if row.assignee_email:
            try:
                found = await self.person(self.address(row.assignee_email))
            except InvalidInput as exc:
                errors.append(("assignee_email", exc.detail))
            else:
                if found is None or not found.is_active or found.role not in _STAFF:
                    errors.append(
                        ("assignee_email", f"{row.assignee_email} is not an active agent or admin.")
                    )
                else:
                    assignee_id = found.id
        tags = []
        for name in dict.fromkeys(row.labels):
            if (known := await self.label(name)) is None:
                errors.append(("labels", f"No such label: {name}."))
            else:
                tags.append(known)
        now = datetime.now(UTC)
        created_at = row.created_at or now
        if created_at > now:
            errors.append(("created_at", "Must not be in the future."))
        if row.resolved_at is not None and row.resolved_at < created_at:
            errors.append(("resolved_at", "Must not be before created_at."))
        checked_fields: list[fields.Checked] = []
        if row.type in TICKET_TYPES:
            if self.custom_fields is None:
                self.custom_fields = await fields.list_fields(self.conn, staff=True)
            try:
                checked_fields = fields.check_new_among(
                    self.custom_fields, row.custom_fields, ticket_type=row.type, staff=True
                )
            except InvalidInput as exc:
                where = (exc.field or "custom_fields").replace("custom_fields.", "cf.")
                errors.append((where, exc.detail))
        authors = []
        for index, comment in enumerate(row.comments):
            where = f"comments.{index}"
            author = await self.account(errors, f"{where}.author_email", comment.author_email, None)
            if not 1 <= len(comment.body) <= 65536:
                errors.append((f"{where}.body", "Must be 1 to 65,536 characters."))
            if comment.is_internal and author is not None:
                found = await self.person(author)
                if found is None or found.role not in _STAFF:
                    errors.append((f"{where}.is_internal", "Only staff write internal notes."))
            if author is not None:
                authors.append((author, comment))
        if errors:
            self.result.failing_rows += 1
            room = MAX_LISTED_ERRORS - len(self.result.errors)
            self.result.errors.extend(
                RowError(row=row.row, field=where, column=None, message=message)
                for where, message in errors[: max(room, 0)]
            )
            return
        assert submitter is not None
        self.result.ready.append(
            _Ready(
                source=row,
                submitter=submitter,
                title=title,
                description=description,
                assignee_id=assignee_id,
                tags=sorted(tags),
                created_at=created_at,
                fields=checked_fields,
                comments=authors,
            )
        )


async def check_rows(
    conn: Connection, rows: Iterable[ImportRow], *, source: str, internal_domains: list[str]
) -> CheckedRows:
    """Check every row of a batch from ``source`` without writing anything: what would
    be created, skipped (external ids imported before) or refused, row by row.

    ``internal_domains``: the ``internal_email_domains`` setting (submitter addresses
    are checked as sign-ups are)."""
    checks = _RowCheck(conn, source, internal_domains)
    batch = list(rows)
    given = [row.external_id for row in batch if row.external_id is not None]
    if given:
        found = await fetch_all(
            conn, _Known, Q.already_imported, {"source": source, "external_ids": given}
        )
        checks.result.already_imported = {known.external_id: known.number for known in found}
    for row in batch:
        if row.external_id is not None and row.external_id in checks.result.already_imported:
            continue
        await checks.check(row)
    return checks.result


class _Known(BaseModel):
    external_id: str
    number: int


async def apply_rows(
    conn: Connection,
    rows: Iterable[ImportRow],
    *,
    import_id: UUID,
    source: str,
    actor_id: UUID,
    internal_domains: list[str],
) -> ImportResult:
    """Import a batch of rows from ``source`` in the caller's transaction: all of them,
    or (``Conflict`` ``import_rows_invalid``, before anything is written) none.

    ``import_id``: the ``imports`` row the tickets are recorded under (``start_import``);
    ``actor_id``: the admin importing, named by each ticket's event. Rows imported before
    (by ``source`` and external id) are skipped. ``internal_domains`` as for
    ``check_rows``. Two imports writing the same external id at once: the second ends
    with ``Conflict`` and writes nothing."""
    checked = await check_rows(conn, rows, source=source, internal_domains=internal_domains)
    if checked.errors:
        raise Conflict(
            f"{checked.failing_rows} rows would not import (see a dry run); nothing was imported.",
            code="import_rows_invalid",
            field="rows",
        )
    accounts = dict(checked.people)
    for address, name in checked.new_people.items():
        user = await users.create_user(
            conn,
            email=address,
            name=name,
            role="user",
            password=None,
            internal_domains=internal_domains,
            email_verified=False,
        )
        accounts[address] = user.id
    try:
        for start in range(0, len(checked.ready), WRITE_BATCH):
            await _write(
                conn,
                checked.ready[start : start + WRITE_BATCH],
                accounts,
                import_id,
                source,
                actor_id,
            )
    except psycopg.errors.UniqueViolation as exc:
        if constraint_name(exc) == "imported_tickets_external_key":
            raise Conflict(
                "Another import brought in some of these external ids meanwhile; nothing "
                "was imported. Run it again to import the rest.",
                code="external_id_taken",
                field="external_id",
            ) from exc
        raise
    numbers = await fetch_one(conn, _Numbers, Q.numbers_of_import, {"import_id": import_id})
    return ImportResult(
        created=len(checked.ready),
        already_imported=len(checked.already_imported),
        new_submitters=len(checked.new_people),
        first_number=numbers.first,
        last_number=numbers.last,
    )


class _Numbers(BaseModel):
    first: int | None
    last: int | None


async def _write(
    conn: Connection,
    batch: list[_Ready],
    accounts: dict[str, UUID],
    import_id: UUID,
    source: str,
    actor_id: UUID,
) -> None:
    """Write ``batch`` set-based: its tickets, comments, imported-ticket records and
    events in one statement each, custom field values pipelined."""
    ids = [UUID(str(uuid_utils.uuid7())) for _ in batch]
    await tickets.insert_imported_tickets(
        conn,
        [
            tickets.ImportedTicket(
                id=ticket_id,
                submitter_id=accounts[ready.submitter.lower()],
                type=ready.source.type,
                priority=ready.source.priority,
                status=ready.source.status,
                title=ready.title,
                description=ready.description,
                assignee_id=ready.assignee_id,
                tags=ready.tags,
                created_at=ready.created_at,
                resolved_at=ready.source.resolved_at or ready.created_at,
            )
            for ticket_id, ready in zip(ids, batch, strict=True)
        ],
    )
    with_fields = [(i, r) for i, r in zip(ids, batch, strict=True) if r.fields]
    if with_fields:
        async with conn.pipeline():
            for ticket_id, ready in with_fields:
                await fields.write_new(conn, ticket_id, ready.fields)
    written = [
        comments.ImportedComment(
            ticket_id=ticket_id,
            author_id=accounts[author.lower()],
            body=comment.body,
            is_internal=comment.is_internal,
            created_at=comment.created_at or ready.created_at,
        )
        for ticket_id, ready in zip(ids, batch, strict=True)
        for author, comment in ready.comments
    ]
    if written:
        await comments.insert_imported_comments(conn, written)
    await execute(
        conn,
        Q.insert_imported_tickets,
        {
            "import_id": import_id,
            "source": source,
            "ticket_id": ids,
            "source_row": [ready.source.row for ready in batch],
            "external_id": [ready.source.external_id for ready in batch],
        },
    )
    # The timeline's one entry a ticket, written directly: announcing the change would
    # mail the submitter, mirror the ticket to GitHub and call webhooks, once per row.
    await events.record_all(
        conn,
        [
            Change(
                ticket_id=ticket_id,
                kind="created",
                actor_id=actor_id,
                data={
                    "type": ready.source.type,
                    "priority": ready.source.priority,
                    "title": ready.title,
                    "imported": {"import_id": str(import_id), "source": source},
                },
            )
            for ticket_id, ready in zip(ids, batch, strict=True)
        ],
    )


# --- the imports admins make -------------------------------------------------------------


async def start_import(
    conn: Connection,
    *,
    source: str,
    actor_id: UUID,
    filename: str,
    content: str | None,
    columns: list[str],
    row_count: int,
) -> ImportUpload:
    """Record a new import from ``source`` (a file's ``content`` kept until it is
    applied); the tickets ``apply_rows`` writes are recorded under its id."""
    found = await fetch_one(
        conn,
        StoredImport,
        Q.insert_import,
        {
            "source": source,
            "created_by": actor_id,
            "filename": filename,
            "content": content,
            "columns": columns,
            "row_count": row_count,
        },
    )
    return shown(found, sample=[])


async def import_for_update(conn: Connection, import_id: UUID, *, source: str) -> StoredImport:
    """The import with this id, locked until the transaction ends; 404 otherwise."""
    found = await fetch_optional(
        conn, StoredImport, Q.import_for_update, {"id": import_id, "source": source}
    )
    if found is None:
        raise NotFound("No such import.", code="import_not_found")
    return found


async def get_import(conn: Connection, import_id: UUID, *, source: str) -> StoredImport:
    """The import with this id; 404 otherwise."""
    found = await fetch_optional(
        conn, StoredImport, Q.import_by_id, {"id": import_id, "source": source}
    )
    if found is None:
        raise NotFound("No such import.", code="import_not_found")
    return found


async def mark_applied(conn: Connection, import_id: UUID, result: ImportResult) -> None:
    """Record that the import was applied and what it wrote; its file is dropped."""
    await execute(
        conn, Q.mark_applied, {"id": import_id, "result": Jsonb(result.model_dump(mode="json"))}
    )


def shown(found: StoredImport, *, sample: list[list[str]]) -> ImportUpload:
    """``found`` as the API shows it, with the ``sample`` rows of its file."""
    return ImportUpload(
        id=found.id,
        filename=found.filename,
        columns=found.columns,
        sample=sample,
        row_count=found.row_count,
        created_at=found.created_at,
        applied_at=found.applied_at,
        result=ImportResult.model_validate(found.result) if found.result else None,
    )


async def tickets_of_import(
    conn: Connection, import_id: UUID, *, after_row: int, limit: int
) -> list[ImportedTicketRef]:
    """The tickets an import created, by source row, from the row after ``after_row``."""
    return await fetch_all(
        conn,
        ImportedTicketRef,
        Q.tickets_of_import,
        {"import_id": import_id, "after_row": after_row, "limit": limit},
    )
