"""Migrations: applied once, safe to start twice at the same moment, and matching the code."""

import asyncio
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import psycopg
import pytest
from psycopg import pq
from pydantic import BaseModel

from ticketdesk import db
from ticketdesk.attachments.schemas import StoredAttachment
from ticketdesk.auth.schemas import Token
from ticketdesk.comments.schemas import Comment
from ticketdesk.events.schemas import Event
from ticketdesk.labels.schemas import Label
from ticketdesk.sql import load_queries
from ticketdesk.tickets.schemas import Ticket
from ticketdesk.users.schemas import User


def _applied(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        return [row[0] for row in conn.execute("select version from schema_migrations")]


def test_files_are_numbered_and_ordered() -> None:
    versions = [version for version, _ in db.migration_files()]

    assert versions == sorted(versions)
    assert versions[0] == "0001_core"
    numbers = [version.split("_", 1)[0] for version in versions]
    assert all(re.fullmatch(r"\d{4}", n) for n in numbers), versions
    assert len(set(numbers)) == len(numbers), "two migrations share a number"


async def test_second_run_applies_nothing(empty_database: str) -> None:
    first = await db.migrate(empty_database)
    second = await db.migrate(empty_database)

    assert first == [version for version, _ in db.migration_files()]
    assert second == []
    assert sorted(_applied(empty_database)) == first


async def test_concurrent_starts_apply_each_migration_once(empty_database: str) -> None:
    results = await asyncio.gather(*(db.migrate(empty_database) for _ in range(3)))

    everything = [version for version, _ in db.migration_files()]
    applied = [version for result in results for version in result]
    assert sorted(applied) == everything  # each exactly once, by whichever got there first
    assert sorted(_applied(empty_database)) == everything


async def test_a_failing_migration_leaves_nothing_half_done(
    empty_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = db.migration_files()
    broken = [*real, ("9999_broken", "create table half_done (id int); select 1/0;")]
    monkeypatch.setattr(db, "migration_files", lambda: broken)

    with pytest.raises(psycopg.errors.DivisionByZero):
        await db.migrate(empty_database)

    assert sorted(_applied(empty_database)) == [version for version, _ in real]
    with psycopg.connect(empty_database) as conn:
        assert conn.execute("select to_regclass('half_done')").fetchone() == (None,)
        # The lock was let go: another start is not kept waiting.
        assert conn.execute(
            "select pg_try_advisory_lock(%s)", (db.MIGRATION_LOCK_ID,)
        ).fetchone() == (True,)


async def test_search_documents_are_built_for_tickets_that_exist(
    empty_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0017 on a database with tickets: each gets its documents, notes in staff's only."""
    real = db.migration_files()
    before = [(version, sql) for version, sql in real if version < "0017"]
    monkeypatch.setattr(db, "migration_files", lambda: before)
    await db.migrate(empty_database)
    with psycopg.connect(empty_database) as conn:
        conn.execute(
            "with u as (insert into users (email, name, role) values"
            " ('a@example.com', 'A', 'user') returning id),"
            " t as (insert into tickets (user_id, type, title, description)"
            " select id, 'bug', 'Gizmo export stalls', 'The wombat report hangs at noon.'"
            " from u returning id, user_id)"
            " insert into comments (ticket_id, author_id, body, is_internal)"
            " select id, user_id, 'Also the marmoset page.', false from t"
            " union all select id, user_id, 'Ask about narwhal.', true from t"
        )

    monkeypatch.setattr(db, "migration_files", lambda: real)
    applied = await db.migrate(empty_database)

    assert applied[0] == "0017_search_documents"
    with psycopg.connect(empty_database) as conn:
        found = conn.execute(
            "select q, search_public @@ to_tsquery('english', q),"
            " search_staff @@ to_tsquery('english', q)"
            " from tickets, unnest(array['gizmo', 'wombat', 'marmoset', 'narwhal']) as q"
            " order by q"
        ).fetchall()
    assert found == [
        ("gizmo", True, True),
        ("marmoset", True, True),
        ("narwhal", False, True),
        ("wombat", True, True),
    ]


# --- the schema is what the code expects ---------------------------------------------

_PLACEHOLDER = re.compile(r"%\((\w+)\)[sbt]|%%")


def _numbered(query: str) -> str:
    """psycopg's ``%(name)s`` placeholders as PostgreSQL's ``$1``, for a bare PREPARE."""
    numbers: dict[str, int] = {}

    def replace(match: re.Match[str]) -> str:
        if match[0] == "%%":
            return "%"
        return f"${numbers.setdefault(match[1], len(numbers) + 1)}"

    return _PLACEHOLDER.sub(replace, query)


def _query_files() -> list[tuple[str, str]]:
    """Every ``queries.sql`` in the package, as ``(package, query name)`` pairs."""
    root = Path(str(resources.files("ticketdesk")))
    found = []
    for path in sorted(root.rglob("queries.sql")):
        package = ".".join(("ticketdesk", *path.parent.relative_to(root).parts))
        found += [(package, name) for name in load_queries(package).names()]
    return found


QUERIES = _query_files()


@pytest.fixture(scope="module")
def migrated(server_dsn: str, session_db: str) -> Iterator[psycopg.Connection]:
    """A connection to the session's migrated database, only used to prepare statements."""
    dsn = psycopg.conninfo.make_conninfo(server_dsn, dbname=session_db)
    with psycopg.connect(dsn) as conn:
        yield conn


def test_there_are_queries_to_check() -> None:
    packages = {package for package, _ in QUERIES}

    assert {"ticketdesk.tickets", "ticketdesk.auth", "ticketdesk.comments"} <= packages
    assert len(QUERIES) > 30


# What the code fills a query's ``{placeholder}`` with (``sql.SQL(Q.x).format(...)``), as
# text that stands in for it here.
_COMPOSED = {
    # Whole-ticket queries: the ticket's columns, as tickets/access.py fills them in.
    "{ticket_columns}": ", ".join(Ticket.model_fields),
    # An export's tickets: the ticket list's condition (tickets.listing.matching_condition),
    # which is "true" when there is no filter and the caller is staff.
    "{where}": "true",
}


@pytest.mark.parametrize(("package", "name"), QUERIES, ids=lambda v: v.rsplit(".", 1)[-1])
def test_every_query_prepares(migrated: psycopg.Connection, package: str, name: str) -> None:
    """Parsed and planned against the real schema: every table, column and type exists."""
    query = getattr(load_queries(package), name)
    for placeholder, stand_in in _COMPOSED.items():
        query = query.replace(placeholder, stand_in)

    result = migrated.pgconn.prepare(b"", _numbered(query).encode())

    assert result.status == pq.ExecStatus.COMMAND_OK, (
        f"{package}/queries.sql {name}: {(result.error_message or b'').decode()}"
    )


# Model → its table, minus the fields that are joined in from other tables or computed.
MODELS: list[tuple[type[BaseModel], str, set[str]]] = [
    (Ticket, "tickets", set()),
    (Comment, "comments", {"author"}),
    (Label, "labels", set()),
    (User, "users", {"invitation_pending"}),
    (Token, "api_tokens", set()),
    (StoredAttachment, "attachments", set()),
    (Event, "ticket_events", {"actor"}),
]


@pytest.mark.parametrize(
    ("model", "table", "joined"), MODELS, ids=lambda v: v.__name__ if isinstance(v, type) else None
)
def test_model_columns_exist(
    migrated: psycopg.Connection, model: type[BaseModel], table: str, joined: set[str]
) -> None:
    columns = {
        row[0]
        for row in migrated.execute(
            "select column_name from information_schema.columns where table_name = %s", (table,)
        )
    }

    missing = set(model.model_fields) - joined - columns
    assert missing == set(), f"{model.__name__} fields with no column in {table}"


def test_every_list_sort_has_an_index(migrated: psycopg.Connection) -> None:
    """Each sort's keyset leads an index, so a page is read in order and never sorted."""
    cur = migrated.execute("select indexdef from pg_indexes where tablename = 'tickets'")
    indexes = {
        (match[1], match[2])
        for (definition,) in cur
        if (match := re.search(r"USING (\w+) \((.*)\)$", definition))
    }

    for method, columns in (
        ("btree", "created_at, id"),
        ("btree", "updated_at, id"),
        ("btree", "priority_rank, created_at, id"),
        # A submitter's own list, in the two sorts the portal offers.
        ("btree", "user_id, created_at, id"),
        ("btree", "user_id, updated_at, id"),
        ("btree", "status, created_at, id"),
        ("gin", "tags"),
        ("gin", "metadata jsonb_path_ops"),
        ("gin", "search_public"),
        ("gin", "search_staff"),
    ):
        assert (method, columns) in indexes, f"no {method} index on ({columns})"
