"""Custom fields: the typed fields admins define for tickets, and the values tickets carry.

A field has a stable ``key`` (the name the API uses: ``custom_fields.<key>`` in a body,
``cf.<key>`` in a list's query), a type, the ticket types it is for and those that must
give it. A staff-only field is neither shown to nor set by a submitter: to them it does
not exist (naming it is the same 422 as naming an unknown key).

Values live in ``ticket_field_values``, one typed column a type, each with its own index
on (field, value, ticket), which list filters and sorts read (``filter_clause``,
``value_column``). Tickets call in here to check a new ticket's values before it is
written (``check_new``), to write them (``write_new``), and to change them
(``changes_for``, then ``save_changes``, which records each change on the ticket's
timeline: staff's only when the field is staff-only).
"""

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, LiteralString
from uuid import UUID

import psycopg
from psycopg import sql
from pydantic import BaseModel

from ticketdesk.changes import Change, record_change
from ticketdesk.db import Connection, constraint_name
from ticketdesk.errors import Conflict, InvalidInput, NotFound
from ticketdesk.fields.schemas import (
    MAX_OPTIONS,
    MAX_TEXT,
    SELECT_TYPES,
    CustomField,
    CustomFieldCreate,
    CustomFieldUpdate,
    FieldValue,
)
from ticketdesk.sql import execute, fetch_all, fetch_one, fetch_optional, fetch_values, load_queries

Q = load_queries(__package__)

# The column that holds each type's values, and its SQL type (for arrays of them).
_COLUMNS: dict[str, tuple[LiteralString, LiteralString]] = {
    "text": ("text_value", "text"),
    "select": ("text_value", "text"),
    "multi_select": ("text_value", "text"),
    "number": ("number_value", "numeric"),
    "date": ("date_value", "date"),
    "checkbox": ("bool_value", "boolean"),
}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,10})?")
# Numbers are kept exactly (numeric); this bounds them to what a JSON reader's double holds.
MAX_NUMBER = Decimal(10) ** 15

MAX_FILTERS = 20

# What a value is, stored: one of these a row (a multi_select: a row for each option).
Stored = str | Decimal | date | bool
# A value a list sorts by: the stored one, or a select's place among its options.
SortValue = Stored | int


def value_column(field: CustomField) -> LiteralString:
    """The column of ``ticket_field_values`` holding ``field``'s values."""
    return _COLUMNS[field.type][0]


def sort_type(field: CustomField) -> LiteralString:
    """The SQL type of what a list sorted by ``field`` sorts by: its values' type, or a
    select's place among its options (``integer``)."""
    return "integer" if field.type == "select" else _COLUMNS[field.type][1]


# --- definitions -----------------------------------------------------------------------


async def list_fields(conn: Connection, *, staff: bool) -> list[CustomField]:
    """Every field, oldest first; staff-only ones only for ``staff``."""
    return await fetch_all(conn, CustomField, Q.list_fields, {"staff": staff})


def _shape_problem(
    type: str, options: Sequence[str], types: Sequence[str], required: Sequence[str]
) -> tuple[str, str] | None:
    """What is wrong with a field's parts, as (the part to blame, why), or None."""
    if len(set(options)) != len(options):
        return "options", "options must not repeat"
    if type in SELECT_TYPES and not options:
        return "options", "a select or multi_select needs at least one option"
    if type not in SELECT_TYPES and options:
        return "options", f"a {type} field has no options"
    if len(set(types)) != len(types):
        return "ticket_types", "ticket_types must not repeat"
    if not types:
        return "ticket_types", "name at least one ticket type"
    if len(set(required)) != len(required):
        return "required_for", "required_for must not repeat"
    if set(required) - set(types):
        return "required_for", "required_for may only name types in ticket_types"
    return None


def _check_shape(
    type: str, options: Sequence[str], types: Sequence[str], required: Sequence[str]
) -> None:
    if (problem := _shape_problem(type, options, types, required)) is not None:
        blame, why = problem
        raise InvalidInput(f"{blame[0].upper()}{blame[1:]}: {why}.", code="bad_field", field=blame)


async def create_field(conn: Connection, body: CustomFieldCreate) -> CustomField:
    """Add a field; its key must be new."""
    _check_shape(body.type, body.options, body.ticket_types, body.required_for)
    try:
        async with conn.transaction():
            return await fetch_one(conn, CustomField, Q.insert_field, body.model_dump())
    except psycopg.errors.UniqueViolation as exc:
        if constraint_name(exc) == "custom_fields_key_key":
            raise Conflict(
                "A field with this key exists.", code="field_exists", field="key"
            ) from exc
        raise


async def _field_for_update(conn: Connection, field_id: UUID) -> CustomField:
    field = await fetch_optional(conn, CustomField, Q.field_for_update, {"field_id": field_id})
    if field is None:
        raise NotFound("No such custom field.", code="field_not_found")
    return field


async def update_field(conn: Connection, field_id: UUID, body: CustomFieldUpdate) -> CustomField:
    """Change a field's label, options, audience or ticket types. An option some ticket
    has chosen cannot be taken away (409 on ``options``)."""
    field = await _field_for_update(conn, field_id)
    merged = {**field.model_dump(), **body.model_dump(exclude_unset=True, exclude_none=True)}
    _check_shape(field.type, merged["options"], merged["ticket_types"], merged["required_for"])
    removed = sorted(set(field.options) - set(merged["options"]))
    if removed and (
        used := await fetch_values(
            conn, str, Q.options_in_use, {"field_id": field_id, "options": removed}
        )
    ):
        raise Conflict(
            f"Tickets have chosen {', '.join(sorted(used))}: an option in use cannot be removed.",
            code="option_in_use",
            field="options",
        )
    return await fetch_one(conn, CustomField, Q.update_field, {**merged, "field_id": field_id})


async def delete_field(conn: Connection, field_id: UUID) -> None:
    """Remove a field and every ticket's value of it."""
    await _field_for_update(conn, field_id)
    await execute(conn, Q.delete_field_values, {"field_id": field_id})
    await execute(conn, Q.delete_field, {"field_id": field_id})


# --- values ------------------------------------------------------------------------------


class _ValueRow(BaseModel):
    ticket_id: UUID
    key: str
    type: str
    staff_only: bool
    text_value: str | None
    number_value: Decimal | None
    date_value: date | None
    bool_value: bool | None


def _number_out(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


async def values_for(
    conn: Connection, ticket_ids: list[UUID], *, staff: bool
) -> dict[UUID, dict[str, Any]]:
    """Each ticket's values by key, as the API shows them; staff-only fields only for
    ``staff``. A field without a value is absent."""
    rows = await fetch_all(
        conn, _ValueRow, Q.ticket_values, {"ticket_ids": ticket_ids, "staff": staff}
    )
    found: dict[UUID, dict[str, Any]] = defaultdict(dict)
    for row in rows:
        values = found[row.ticket_id]
        if row.type == "multi_select":
            values.setdefault(row.key, []).append(row.text_value)
        elif row.number_value is not None:
            values[row.key] = _number_out(row.number_value)
        elif row.date_value is not None:
            values[row.key] = row.date_value.isoformat()
        elif row.bool_value is not None:
            values[row.key] = row.bool_value
        else:
            values[row.key] = row.text_value
    return found


def _bad(field: CustomField, why: str, *, code: str = "bad_custom_field") -> InvalidInput:
    return InvalidInput(f"{field.label}: {why}.", code=code, field=f"custom_fields.{field.key}")


def _unknown(key: str) -> InvalidInput:
    return InvalidInput(
        f"No such custom field: {key}.", code="unknown_custom_field", field=f"custom_fields.{key}"
    )


def _stored(field: CustomField, value: FieldValue) -> list[Stored]:
    """``value`` as the rows it is stored as (none: no value); a 422 naming the field if it
    does not fit the field's type."""
    if value is None:
        return []
    match field.type:
        case "text":
            if not isinstance(value, str):
                raise _bad(field, "must be text")
            if "\x00" in value:
                raise _bad(field, "must not contain NUL characters")
            text = value.strip()
            if len(text) > MAX_TEXT:
                raise _bad(field, f"must be at most {MAX_TEXT} characters")
            return [text] if text else []
        case "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _bad(field, "must be a number")
            if isinstance(value, float) and not math.isfinite(value):
                raise _bad(field, "must be a finite number")
            number = Decimal(str(value))
            if abs(number) >= MAX_NUMBER:
                raise _bad(field, "must be less than 10^15 in size")
            if not isinstance(exponent := number.as_tuple().exponent, int) or exponent < -10:
                raise _bad(field, "must have at most 10 decimal places")
            return [number]
        case "date":
            if not isinstance(value, str) or not _DATE.fullmatch(value):
                raise _bad(field, "must be a date written YYYY-MM-DD")
            try:
                return [date.fromisoformat(value)]
            except ValueError:
                raise _bad(field, "must be a date written YYYY-MM-DD") from None
        case "select":
            if not isinstance(value, str) or value not in field.options:
                raise _bad(field, f"must be one of {', '.join(field.options)}")
            return [value]
        case "multi_select":
            if not isinstance(value, list) or any(v not in field.options for v in value):
                raise _bad(field, f"must be a list of options from {', '.join(field.options)}")
            if len(set(value)) != len(value):
                raise _bad(field, "must not name an option twice")
            return [option for option in field.options if option in value]
        case "checkbox":
            if not isinstance(value, bool):
                raise _bad(field, "must be true or false")
            return [value]
    raise AssertionError(field.type)


@dataclass(frozen=True)
class Checked:
    """A value checked against its field, about to be written."""

    field: CustomField
    stored: list[Stored]


def _settable(fields: list[CustomField], *, staff: bool) -> dict[str, CustomField]:
    return {f.key: f for f in fields if staff or not f.staff_only}


def _check(
    known: dict[str, CustomField], values: dict[str, FieldValue], ticket_type: str
) -> list[Checked]:
    checked = []
    for key, value in values.items():
        if (field := known.get(key)) is None:
            raise _unknown(key)
        stored = _stored(field, value)
        if stored and ticket_type not in field.ticket_types:
            raise _bad(field, f"is not a field of {ticket_type} tickets", code="field_not_for_type")
        checked.append(Checked(field, stored))
    return checked


async def check_new(
    conn: Connection, values: dict[str, FieldValue], *, ticket_type: str, staff: bool
) -> list[Checked]:
    """The values of a ticket about to be opened, checked: each must be a field the
    caller may set, fit its type and be for ``ticket_type``; each field required for
    ``ticket_type`` that the caller may set must have a value. A 422 naming the first
    field that fails (``custom_fields.<key>``)."""
    defined = await list_fields(conn, staff=staff)
    return check_new_among(defined, values, ticket_type=ticket_type, staff=staff)


def check_new_among(
    defined: list[CustomField], values: dict[str, FieldValue], *, ticket_type: str, staff: bool
) -> list[Checked]:
    """``check_new`` against the fields ``defined`` (``list_fields``), read once by a
    caller that checks many tickets."""
    known = _settable(defined, staff=staff)
    checked = _check(known, values, ticket_type)
    given = {c.field.key for c in checked if c.stored}
    for field in known.values():
        if ticket_type in field.required_for and field.key not in given:
            raise _bad(
                field, f"is required for {ticket_type} tickets", code="custom_field_required"
            )
    return [c for c in checked if c.stored]


async def _insert(conn: Connection, ticket_id: UUID, checked: Checked) -> None:
    column = value_column(checked.field)
    for value in checked.stored:
        row: dict[str, Any] = dict.fromkeys(
            ("text_value", "number_value", "date_value", "bool_value")
        )
        row[column] = value
        await execute(
            conn, Q.insert_value, {"ticket_id": ticket_id, "field_id": checked.field.id, **row}
        )


async def write_new(conn: Connection, ticket_id: UUID, checked: list[Checked]) -> None:
    """Store a new ticket's values, as ``check_new`` returned them."""
    for item in checked:
        await _insert(conn, ticket_id, item)


@dataclass(frozen=True)
class FieldChange:
    """One field's value changing on a ticket (``None``: no value)."""

    field: CustomField
    stored: list[Stored]
    old: Any
    new: Any


async def changes_for(
    conn: Connection,
    ticket_id: UUID,
    values: dict[str, FieldValue],
    *,
    ticket_type: str,
    staff: bool,
) -> list[FieldChange]:
    """What setting ``values`` on a ticket (of ``ticket_type``, as it will be) changes, checked
    as ``check_new`` does; clearing a field required for its type is refused too. Fields
    whose value stays the same are left out."""
    known = _settable(await list_fields(conn, staff=staff), staff=staff)
    checked = _check(known, values, ticket_type)
    current = (await values_for(conn, [ticket_id], staff=staff)).get(ticket_id, {})
    found = []
    for item in checked:
        field = item.field
        if not item.stored and ticket_type in field.required_for:
            raise _bad(
                field, f"is required for {ticket_type} tickets", code="custom_field_required"
            )
        new = _shown(field, item.stored)
        old = current.get(field.key)
        if old != new:
            found.append(FieldChange(field, item.stored, old, new))
    return found


def _shown(field: CustomField, stored: list[Stored]) -> Any:
    """Stored rows as the API shows the value."""
    if not stored:
        return None
    if field.type == "multi_select":
        return list(stored)
    [value] = stored
    if isinstance(value, Decimal):
        return _number_out(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


async def save_changes(
    conn: Connection, actor_id: UUID | None, ticket_id: UUID, found: list[FieldChange]
) -> None:
    """Write ``changes_for``'s changes and record each on the ticket's timeline
    (``custom_field_changed``; internal, for staff eyes only, when the field is staff-only)."""
    for change in found:
        await execute(conn, Q.clear_value, {"ticket_id": ticket_id, "field_id": change.field.id})
        await _insert(conn, ticket_id, Checked(change.field, change.stored))
        await record_change(
            conn,
            Change(
                ticket_id=ticket_id,
                kind="custom_field_changed",
                actor_id=actor_id,
                data={
                    "field": change.field.key,
                    "label": change.field.label,
                    "from": change.old,
                    "to": change.new,
                },
                is_internal=change.field.staff_only,
            ),
        )


# --- lists -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """Tickets whose value of ``field`` is any of ``values`` (``op="any"``), or at least
    (``"from"``) or at most (``"to"``) the one value given."""

    field: CustomField
    values: list[Stored]
    op: Literal["any", "from", "to"] = "any"


def _query_value(field: CustomField, raw: str, name: str) -> Stored:
    bad = InvalidInput(
        f"{field.label}: {raw!r} is not a value of this field.",
        code="bad_custom_field_filter",
        field=name,
    )
    match field.type:
        case "text":
            if "\x00" in raw:
                raise bad
            return raw.strip()
        case "select" | "multi_select":
            if raw not in field.options:
                raise bad
            return raw
        case "number":
            if not _NUMBER.fullmatch(raw):
                raise bad
            try:
                return Decimal(raw)
            except InvalidOperation:
                raise bad from None
        case "date":
            if not _DATE.fullmatch(raw):
                raise bad
            try:
                return date.fromisoformat(raw)
            except ValueError:
                raise bad from None
        case "checkbox":
            if raw not in ("true", "false"):
                raise bad
            return raw == "true"
    raise AssertionError(field.type)


async def field_by_key(conn: Connection, key: str, *, staff: bool, name: str) -> CustomField:
    """The field named ``key`` that the caller may see; a 422 on ``name`` otherwise."""
    for field in await list_fields(conn, staff=staff):
        if field.key == key:
            return field
    raise InvalidInput(f"No such custom field: {key}.", code="unknown_custom_field", field=name)


async def filters(conn: Connection, raw: dict[str, list[str]], *, staff: bool) -> list[Filter]:
    """``cf.<key>=value`` query parameters (any of the values given), and the bounds of a
    number or date, ``cf.<key>.from`` and ``cf.<key>.to`` (inclusive), checked; ``raw``
    is keyed by what follows ``cf.``."""
    if len(raw) > MAX_FILTERS or any(len(values) > MAX_OPTIONS for values in raw.values()):
        raise InvalidInput(
            f"Filter by at most {MAX_FILTERS} custom fields, {MAX_OPTIONS} values each.",
            code="too_many_custom_field_filters",
            field=f"cf.{next(iter(raw))}",
        )
    found = []
    for param, values in raw.items():
        name = f"cf.{param}"
        key, _, bound = param.partition(".")
        field = await field_by_key(
            conn, key if bound in ("from", "to") else param, staff=staff, name=name
        )
        checked = [_query_value(field, v, name) for v in values]
        if bound not in ("from", "to"):
            found.append(Filter(field, checked))
            continue
        if field.type not in ("number", "date") or len(checked) != 1:
            raise InvalidInput(
                f"{field.label}: only a number or a date takes a range, one bound each.",
                code="bad_custom_field_filter",
                field=name,
            )
        found.append(Filter(field, checked, "from" if bound == "from" else "to"))
    return found


def filter_clause(item: Filter, index: int) -> tuple[sql.Composable, dict[str, Any]]:
    """A WHERE clause on ``tickets`` for ``item``: one range of its type's index."""
    column, pg_type = _COLUMNS[item.field.type]
    if item.op == "any":
        test = sql.SQL("= any({}::{}[])").format(
            sql.Placeholder(f"cf{index}_values"), sql.SQL(pg_type)
        )
        value: object = item.values
    else:
        test = sql.SQL("{} {}::{}").format(
            sql.SQL(">=" if item.op == "from" else "<="),
            sql.Placeholder(f"cf{index}_values"),
            sql.SQL(pg_type),
        )
        [value] = item.values
    clause = sql.SQL(
        "tickets.id in (select ticket_id from ticket_field_values"
        " where field_id = {field} and {column} {test})"
    ).format(field=sql.Placeholder(f"cf{index}_field"), column=sql.Identifier(column), test=test)
    return clause, {f"cf{index}_field": item.field.id, f"cf{index}_values": value}


def cursor_value(field: CustomField, raw: object) -> SortValue | None:
    """A sort value read back from a list's cursor; ValueError if it cannot be one."""
    if raw is None:
        return None
    match field.type:
        case "number" if isinstance(raw, str) and _NUMBER.fullmatch(raw):
            return Decimal(raw)
        case "date" if isinstance(raw, str) and _DATE.fullmatch(raw):
            return date.fromisoformat(raw)
        case "checkbox" if isinstance(raw, bool):
            return raw
        case "text" if isinstance(raw, str):
            return raw
        case "select" if type(raw) is int:
            # Its place among the options, which a select sorts by.
            return raw
    raise ValueError("not a value of the field")
