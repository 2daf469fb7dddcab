"""Labels: the admin-managed vocabulary of ticket ``tags``."""

from uuid import UUID

import psycopg

from ticketdesk.db import Connection, constraint_name
from ticketdesk.errors import Conflict, InvalidInput, NotFound
from ticketdesk.labels.schemas import Label, LabelCreate, LabelUpdate
from ticketdesk.sql import fetch_all, fetch_one, fetch_optional, fetch_values, load_queries

Q = load_queries(__package__)


def _name_taken(exc: psycopg.errors.UniqueViolation) -> Conflict | None:
    if constraint_name(exc) == "labels_name_key":
        return Conflict("A label with this name exists.", code="label_exists", field="name")
    return None


async def list_labels(conn: Connection) -> list[Label]:
    """Every label, by name."""
    return await fetch_all(conn, Label, Q.list_labels)


async def create_label(conn: Connection, body: LabelCreate) -> Label:
    """Add a label."""
    try:
        async with conn.transaction():
            return await fetch_one(conn, Label, Q.insert_label, body.model_dump())
    except psycopg.errors.UniqueViolation as exc:
        raise (_name_taken(exc) or exc) from exc


async def update_label(conn: Connection, label_id: UUID, body: LabelUpdate) -> tuple[Label, str]:
    """Change a label; return it and its name before the change."""
    old = await fetch_optional(conn, Label, Q.get_label_for_update, {"label_id": label_id})
    if old is None:
        raise NotFound("No such label.", code="label_not_found")
    try:
        async with conn.transaction():
            label = await fetch_one(
                conn, Label, Q.update_label, {"label_id": label_id, **body.model_dump()}
            )
    except psycopg.errors.UniqueViolation as exc:
        raise (_name_taken(exc) or exc) from exc
    return label, old.name


async def delete_label(conn: Connection, label_id: UUID) -> str:
    """Remove a label; return its name."""
    label = await fetch_optional(conn, Label, Q.delete_label, {"label_id": label_id})
    if label is None:
        raise NotFound("No such label.", code="label_not_found")
    return label.name


async def canonical_tags(conn: Connection, names: list[str]) -> list[str]:
    """The labels' own spelling of ``names``; unknown names are a 422 on ``tags``."""
    wanted = list(dict.fromkeys(name.lower() for name in names))
    known = await fetch_values(conn, str, Q.canonical_names, {"names": wanted})
    found = {name.lower(): name for name in known}
    unknown = [name for name in names if name.lower() not in found]
    if unknown:
        raise InvalidInput(
            f"No such label: {', '.join(unknown)}.", code="unknown_label", field="tags"
        )
    return sorted({found[name] for name in wanted})


async def known_tags(conn: Connection, names: list[str]) -> list[str]:
    """The labels' own spelling of those of ``names`` that are labels; others are left out."""
    wanted = list(dict.fromkeys(name.lower() for name in names))
    return sorted(await fetch_values(conn, str, Q.canonical_names, {"names": wanted}))
