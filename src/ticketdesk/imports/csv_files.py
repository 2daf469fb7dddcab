"""Tickets from a CSV file: upload it, map its columns to ticket fields, try it (a dry
run) and apply it, all rows or none (``imports.service``).

A file is UTF-8 (a byte-order mark is allowed), separated by commas, semicolons or tabs
(whichever its header line has most of), with a header row; at most ``MAX_BYTES`` and
``MAX_ROWS`` rows. Blank lines are skipped. It is kept until it is applied.
"""

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import UUID

from ticketdesk.db import Connection
from ticketdesk.errors import Conflict, InvalidInput, TooLarge
from ticketdesk.fields import service as fields
from ticketdesk.fields.schemas import CustomField, FieldValue
from ticketdesk.imports import service
from ticketdesk.imports.schemas import (
    TARGET_FIELDS,
    DryRun,
    ImportMapping,
    ImportUpload,
    PreviewTicket,
)
from ticketdesk.imports.service import ImportRow

SOURCE = "csv"
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
SAMPLE_ROWS = 5
_REQUIRED = ("title", "description", "submitter_email")
_TRUE = frozenset({"true", "yes", "y", "1", "x"})
_FALSE = frozenset({"false", "no", "n", "0", ""})


def _bad_file(message: str) -> InvalidInput:
    return InvalidInput(message, code="bad_csv", field="file")


def read_csv(data: bytes) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a CSV file; a 422 on ``file`` if it cannot be read."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _bad_file(f"The file is not UTF-8 text (byte {exc.start}).") from None
    if "\x00" in text:
        raise _bad_file("The file contains NUL characters: it is not a CSV file.")
    first_line = text.partition("\n")[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    try:
        rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if any(row)]
    except csv.Error as exc:
        raise _bad_file(f"The file is not valid CSV: {exc}.") from None
    if not rows:
        raise _bad_file("The file is empty: it needs a header row and rows.")
    header = [name.strip() for name in rows[0]]
    if any(not name for name in header):
        raise _bad_file("Every column of the header row needs a name.")
    if len(set(header)) != len(header):
        raise _bad_file("Two columns of the header row have the same name.")
    if len(rows) - 1 > MAX_ROWS:
        raise TooLarge(
            f"The file has {len(rows) - 1} rows; one import takes at most {MAX_ROWS}.",
            code="too_many_rows",
        )
    return header, rows[1:]


async def upload(conn: Connection, *, actor_id: UUID, filename: str, data: bytes) -> ImportUpload:
    """Keep an uploaded file for mapping; its columns and first rows. A file with no row
    below its header has nothing to import: a 422 on ``file``."""
    header, rows = read_csv(data)
    if not rows:
        raise _bad_file("The file has a header row but no rows: it has no tickets to import.")
    started = await service.start_import(
        conn,
        source=SOURCE,
        actor_id=actor_id,
        filename=filename,
        content=data.decode("utf-8-sig"),
        columns=header,
        row_count=len(rows),
    )
    return started.model_copy(update={"sample": rows[:SAMPLE_ROWS]})


async def get_upload(conn: Connection, import_id: UUID) -> ImportUpload:
    """An uploaded file: its columns, first rows (until it is applied) and result."""
    found = await service.get_import(conn, import_id, source=SOURCE)
    sample = read_csv(found.content.encode())[1][:SAMPLE_ROWS] if found.content else []
    return service.shown(found, sample=sample)


class _Mapped:
    """A file read through a mapping: each row as an ``ImportRow``."""

    def __init__(
        self, header: list[str], mapping: ImportMapping, custom: dict[str, CustomField]
    ) -> None:
        self.mapping = mapping
        self.custom = custom
        self.width = len(header)
        # Target field → its column's index and name.
        self.at = {
            target: (header.index(column), column)
            for column, target in mapping.columns.items()
            if target is not None
        }

    def column_of(self, target: str) -> str | None:
        """The column a field is read from (an error's ``field`` may be deeper)."""
        found = self.at.get(target) or self.at.get(target.partition(".")[0])
        return found[1] if found else None

    def rows(self, rows: list[list[str]]) -> Iterator[ImportRow]:
        for number, cells in enumerate(rows, start=1):
            yield self.row(number, cells)

    def row(self, number: int, cells: list[str]) -> ImportRow:
        problems: list[tuple[str, str]] = []
        if len(cells) != self.width:
            problems.append(("row", f"It has {len(cells)} cells; the header has {self.width}."))

        def cell(target: str) -> str:
            where = self.at.get(target)
            if where is None or where[0] >= len(cells):
                return ""
            return cells[where[0]].strip()

        def word(target: str, words: dict[str, str], default: str) -> str:
            given = cell(target)
            if not given:
                return default
            if given in words:
                return words[given]
            folded = {key.lower(): value for key, value in words.items()}
            return folded.get(given.lower(), given.lower())

        def moment(target: str) -> datetime | None:
            given = cell(target)
            if not given:
                return None
            try:
                found = datetime.fromisoformat(given)
            except ValueError:
                problems.append((target, f"{given!r} is not a date and time (ISO 8601)."))
                return None
            return found if found.tzinfo else found.replace(tzinfo=UTC)

        custom: dict[str, FieldValue] = {}
        for target in self.at:
            if target.startswith("cf.") and (given := cell(target)):
                try:
                    custom[target[3:]] = self.custom_value(self.custom[target[3:]], given)
                except ValueError as exc:
                    problems.append((target, str(exc)))
        separator = self.mapping.label_separator
        values = self.mapping.values
        return ImportRow(
            row=number,
            title=cell("title"),
            description=cell("description"),
            submitter_email=cell("submitter_email"),
            submitter_name=cell("submitter_name") or None,
            type=word("type", dict(values.type), self.mapping.default_type),
            priority=word("priority", dict(values.priority), "medium"),
            status=word("status", dict(values.status), "open"),
            assignee_email=cell("assignee_email") or None,
            labels=tuple(name.strip() for name in cell("labels").split(separator) if name.strip()),
            custom_fields=custom,
            created_at=moment("created_at"),
            resolved_at=moment("resolved_at"),
            external_id=cell("external_id") or None,
            problems=tuple(problems),
        )

    def custom_value(self, field: CustomField, given: str) -> FieldValue:
        """A cell as its custom field takes it; ``ValueError`` saying why it cannot."""
        match field.type:
            case "number":
                try:
                    return int(given)
                except ValueError:
                    try:
                        return float(given)
                    except ValueError:
                        raise ValueError(f"{given!r} is not a number.") from None
            case "checkbox":
                if given.lower() in _TRUE:
                    return True
                if given.lower() in _FALSE:
                    return False
                raise ValueError(f"{given!r} is not yes or no.")
            case "multi_select":
                separator = self.mapping.label_separator
                return [part.strip() for part in given.split(separator) if part.strip()]
            case _:
                return given


async def _mapped(conn: Connection, columns: list[str], mapping: ImportMapping) -> _Mapped:
    """``mapping`` checked against the file's columns and the custom fields; a 422 naming
    the first part that is wrong."""
    targets: dict[str, str] = {}
    custom = {f.key: f for f in await fields.list_fields(conn, staff=True)}
    for column, target in mapping.columns.items():
        where = f"columns.{column}"
        if column not in columns:
            raise InvalidInput(
                f"The file has no column {column!r}.", code="unknown_column", field=where
            )
        if target is None:
            continue
        if target.startswith("cf."):
            if target[3:] not in custom:
                raise InvalidInput(
                    f"No custom field has the key {target[3:]!r}.",
                    code="unknown_custom_field",
                    field=where,
                )
        elif target not in TARGET_FIELDS:
            raise InvalidInput(
                f"{target!r} is not a ticket field: one of {', '.join(sorted(TARGET_FIELDS))}, "
                "or cf.<key>.",
                code="unknown_field",
                field=where,
            )
        if target in targets:
            raise InvalidInput(
                f"Columns {targets[target]!r} and {column!r} are both mapped to {target}.",
                code="field_mapped_twice",
                field=where,
            )
        targets[target] = column
    for target in _REQUIRED:
        if target not in targets:
            raise InvalidInput(
                f"Map a column to {target}: every ticket needs one.",
                code="field_not_mapped",
                field="columns",
            )
    return _Mapped(columns, mapping, custom)


def _content(found: service.StoredImport) -> str:
    if found.applied_at is not None or found.content is None:
        raise Conflict("This file was imported already.", code="import_applied", field="id")
    return found.content


async def dry_run(
    conn: Connection, import_id: UUID, mapping: ImportMapping, *, internal_domains: list[str]
) -> DryRun:
    """What importing the file with ``mapping`` would do, row by row; nothing is written."""
    found = await service.get_import(conn, import_id, source=SOURCE)
    header, rows = read_csv(_content(found).encode())
    mapped = await _mapped(conn, header, mapping)
    batch = list(mapped.rows(rows))
    checked = await service.check_rows(
        conn, batch, source=SOURCE, internal_domains=internal_domains
    )
    return DryRun(
        row_count=len(rows),
        would_create=len(checked.ready),
        already_imported=len(checked.already_imported),
        new_submitters=len(checked.new_people),
        errors=[
            error.model_copy(update={"column": mapped.column_of(error.field)})
            for error in checked.errors
        ],
        errors_truncated=checked.failing_rows > 0
        and len(checked.errors) >= service.MAX_LISTED_ERRORS,
        preview=[
            PreviewTicket(
                row=row.row,
                title=row.title,
                description=row.description,
                type=row.type,
                priority=row.priority,
                status=row.status,
                submitter_email=row.submitter_email,
                assignee_email=row.assignee_email,
                labels=list(row.labels),
                created_at=row.created_at,
                external_id=row.external_id,
            )
            for row in batch[:SAMPLE_ROWS]
        ],
    )


async def apply(
    conn: Connection,
    import_id: UUID,
    mapping: ImportMapping,
    *,
    actor_id: UUID,
    internal_domains: list[str],
) -> ImportUpload:
    """Import every row of the file with ``mapping``, or none (409 ``import_rows_invalid``
    if any row fails; the dry run lists them)."""
    found = await service.import_for_update(conn, import_id, source=SOURCE)
    header, rows = read_csv(_content(found).encode())
    mapped = await _mapped(conn, header, mapping)
    result = await service.apply_rows(
        conn,
        mapped.rows(rows),
        import_id=import_id,
        source=SOURCE,
        actor_id=actor_id,
        internal_domains=internal_domains,
    )
    await service.mark_applied(conn, import_id, result)
    return await get_upload(conn, import_id)
