"""Labels: the admin-managed vocabulary of ticket ``tags``."""

from uuid import UUID

import psycopg
from psycopg.rows import class_row

from ticketdesk.db import Connection, constraint_name
from ticketdesk.errors import Conflict, InvalidInput, NotFound
from ticketdesk.labels.schemas import Label, LabelCreate, LabelUpdate
from ticketdesk.sql import load_queries

Q = load_queries(__package__)


def _name_taken(exc: psycopg.errors.UniqueViolation) -> Conflict | None:
    if constraint_name(exc) == "labels_name_key":
        return Conflict("A label with this name exists.", code="label_exists", field="name")
    return None


async def list_labels(conn: Connection) -> list[Label]:
    """Every label, by name."""
    cur = conn.cursor(row_factory=class_row(Label))
    await cur.execute(Q.list_labels)
    return await cur.fetchall()


async def create_label(conn: Connection, body: LabelCreate) -> Label:
    """Add a label."""
    cur = conn.cursor(row_factory=class_row(Label))
    try:
        async with conn.transaction():
            await cur.execute(Q.insert_label, body.model_dump())
    except psycopg.errors.UniqueViolation as exc:
        raise (_name_taken(exc) or exc) from exc
    label = await cur.fetchone()
    assert label is not None
    return label


async def update_label(conn: Connection, label_id: UUID, body: LabelUpdate) -> tuple[Label, str]:
    """Change a label; return it and its name before the change."""
    cur = conn.cursor(row_factory=class_row(Label))
    await cur.execute(Q.get_label_for_update, {"label_id": label_id})
    old = await cur.fetchone()
    if old is None:
        raise NotFound("No such label.", code="label_not_found")
    try:
        async with conn.transaction():
            await cur.execute(Q.update_label, {"label_id": label_id, **body.model_dump()})
    except psycopg.errors.UniqueViolation as exc:
        raise (_name_taken(exc) or exc) from exc
    label = await cur.fetchone()
    assert label is not None
    return label, old.name


async def delete_label(conn: Connection, label_id: UUID) -> str:
    """Remove a label; return its name."""
    cur = await conn.execute(Q.delete_label, {"label_id": label_id})
    row = await cur.fetchone()
    if row is None:
        raise NotFound("No such label.", code="label_not_found")
    return str(row["name"])


async def canonical_tags(conn: Connection, names: list[str]) -> list[str]:
    """The labels' own spelling of ``names``; unknown names are a 422 on ``tags``."""
    wanted = list(dict.fromkeys(name.lower() for name in names))
    cur = await conn.execute(Q.canonical_names, {"names": wanted})
    found = {row["name"].lower(): row["name"] for row in await cur.fetchall()}
    unknown = [name for name in names if name.lower() not in found]
    if unknown:
        raise InvalidInput(
            f"No such label: {', '.join(unknown)}.", code="unknown_label", field="tags"
        )
    return sorted({found[name] for name in wanted})
