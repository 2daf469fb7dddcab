"""Named queries from ``queries.sql`` files, and typed helpers to run them.

A file holds blocks introduced by ``-- name: some_query``; each block is one statement
with ``%(param)s`` placeholders. ``load_queries(__package__)`` returns them by name, in
the style of procrastinate and sqlc.

Services run them with the helpers below, which turn each row into the model it
describes (a pydantic model or a dataclass whose fields are the query's columns):

    ticket = await fetch_optional(conn, Ticket, Q.ticket_by_id, {"ticket_id": ticket_id})
    labels = await fetch_all(conn, Label, Q.list_labels)
    comment_id = await fetch_value(conn, UUID, Q.insert_comment, {...})
    until = await fetch_optional_value(conn, datetime, Q.rate_limited_until)
    await execute(conn, Q.touch_ticket, {"ticket_id": ticket_id})
"""

import re
from collections.abc import Mapping
from importlib import resources
from typing import Any, LiteralString, TypeVar, cast

import psycopg
from psycopg import sql
from psycopg.rows import class_row, scalar_row
from pydantic import BaseModel

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)

Row = TypeVar("Row")
Query = LiteralString | sql.SQL | sql.Composed
Params = Mapping[str, Any] | None
# Any row factory: the helpers set their own. (Not db.Connection: db is no lower than this.)
Connection = psycopg.AsyncConnection[Any]


class Queries:
    """The queries of one domain, looked up as attributes: ``Q.get_ticket``."""

    def __init__(self, source: str, origin: str) -> None:
        self._queries: dict[str, LiteralString] = {}
        parts = _NAME.split(source)
        # parts = [preamble, name1, body1, name2, body2, ...]
        for name, body in zip(parts[1::2], parts[2::2], strict=True):
            if name in self._queries:
                raise ValueError(f"{origin}: query {name!r} defined twice")
            self._queries[name] = cast(LiteralString, body.strip())
        self._origin = origin

    def __getattr__(self, name: str) -> LiteralString:
        try:
            return self._queries[name]
        except KeyError:
            raise AttributeError(f"{self._origin} has no query {name!r}") from None

    def names(self) -> list[str]:
        """Every query name in the file."""
        return list(self._queries)


def load_queries(package: str, filename: str = "queries.sql") -> Queries:
    """Load ``filename`` from ``package`` once, at import time."""
    source = (resources.files(package) / filename).read_text(encoding="utf-8")
    return Queries(source, f"{package}/{filename}")


def columns(row: type[BaseModel]) -> sql.Composed:
    """The fields of ``row`` as a column list, for queries that return whole rows.

    A query in ``queries.sql`` writes a placeholder such as ``{ticket_columns}`` where
    the list goes, and the domain fills it in once, with ``sql.SQL(Q.x).format(...)``:
    the list then exists once, as the model. Named columns rather than ``*``: a column
    added later does not change what running processes' prepared statements return.
    """
    return sql.SQL(", ").join(sql.Identifier(name) for name in row.model_fields)


class MissingRow(LookupError):
    """A query that always returns a row returned none: a bug, not a user's mistake."""


def _described(query: Query) -> str:
    text = query if isinstance(query, str) else repr(query)
    return " ".join(text.split())[:120]


async def fetch_optional(
    conn: Connection, row: type[Row], query: Query, params: Params = None
) -> Row | None:
    """The first row of ``query`` as a ``row``, or ``None`` when there is none."""
    cur = conn.cursor(row_factory=class_row(row))
    await cur.execute(query, params)
    return await cur.fetchone()


async def fetch_one(conn: Connection, row: type[Row], query: Query, params: Params = None) -> Row:
    """The row ``query`` always returns (an insert's ``returning``, an aggregate), as ``row``."""
    found = await fetch_optional(conn, row, query, params)
    if found is None:
        raise MissingRow(f"no row from: {_described(query)}")
    return found


async def fetch_all(
    conn: Connection,
    row: type[Row],
    query: Query,
    params: Params = None,
    *,
    prepare: bool | None = None,
) -> list[Row]:
    """Every row of ``query``, each as a ``row``. ``prepare=False``: never as a prepared
    statement, so that each run is planned for its values (a generic plan cannot tell a
    common word from a rare one)."""
    cur = conn.cursor(row_factory=class_row(row))
    await cur.execute(query, params, prepare=prepare)
    return await cur.fetchall()


async def fetch_value(
    conn: Connection, kind: type[Row], query: Query, params: Params = None
) -> Row:
    """The one column of the row ``query`` always returns, checked to be a ``kind``."""
    cur = conn.cursor(row_factory=scalar_row)
    await cur.execute(query, params)
    value = await cur.fetchone()
    if value is None and cur.rowcount == 0:
        raise MissingRow(f"no row from: {_described(query)}")
    return _checked(kind, value, query)


async def fetch_optional_value(
    conn: Connection, kind: type[Row], query: Query, params: Params = None
) -> Row | None:
    """The one column of the first row of ``query`` as a ``kind``; ``None`` for no row or
    a null."""
    cur = conn.cursor(row_factory=scalar_row)
    await cur.execute(query, params)
    value = await cur.fetchone()
    return None if value is None else _checked(kind, value, query)


async def fetch_values(
    conn: Connection, kind: type[Row], query: Query, params: Params = None
) -> list[Row]:
    """The one column of every row of ``query``, each checked to be a ``kind``."""
    cur = conn.cursor(row_factory=scalar_row)
    await cur.execute(query, params)
    return [_checked(kind, value, query) for value in await cur.fetchall()]


def _checked(kind: type[Row], value: object, query: Query) -> Row:
    if not isinstance(value, kind):
        got = type(value).__name__
        raise TypeError(f"expected {kind.__name__}, got {got} from: {_described(query)}")
    return value


async def execute(conn: Connection, query: Query, params: Params = None) -> int:
    """Run a statement that returns no rows; return how many rows it changed."""
    cur = await conn.execute(query, params)
    return cur.rowcount
