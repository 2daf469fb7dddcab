"""Shared fixtures: a real PostgreSQL, one migrated database a session, the app, clients.

The server is ``TEST_DATABASE_URL`` (default: the local one on 127.0.0.1:5432). When
that is unreachable, an embedded PostgreSQL (pgserver) is started instead, so the suite
runs on a machine with nothing installed. Migrations run once into the session's
database; it is emptied before each test, so tests never see each other's rows.
"""

import graphlib
import os
import signal
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from psycopg import sql

from tests.factories import Accounts, make_accounts
from tests.fakes.github import FakeGitHub
from tests.mailservers import SmtpServer
from tests.redis_server import RedisMissing, RedisServer
from tests.webhooks.receiver import Receiver
from ticketdesk import db
from ticketdesk.app import create_app
from ticketdesk.config import Settings, load_settings
from ticketdesk.users import service as users_service

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def pytest_configure(config: pytest.Config) -> None:
    """Let the commands the tests start be stopped with Ctrl-C. A shell without job control
    starts a background command (`scripts/test &`) with SIGINT ignored, which every
    process started from it inherits; Python then leaves it ignored, and the tests that
    press Ctrl-C would wait for nothing."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """With CI=true a skipped test fails: a missing service is an error, not a pass."""
    report = yield
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true: {report.longrepr}"
    return report


@pytest.fixture(scope="session", autouse=True)
def _hash_each_password_once() -> Iterator[None]:
    """Hash each password the tests use with the real argon2id once a session, not per account.

    Most tests make four accounts with the same password; at OWASP's cost (about 30 ms a
    hash on an idle machine here, several times that on a busy one) hashing it again for
    each cost 120 ms or more a test. The hashes stay real argon2id, so signing in still
    verifies for real.
    """
    hash_password = users_service.hash_password
    hashes: dict[str, str] = {}

    async def hash_once(password: str) -> str:
        if password not in hashes:
            hashes[password] = await hash_password(password)
        return hashes[password]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(users_service, "hash_password", hash_once)
        yield


def _reachable(dsn: str) -> bool:
    try:
        with psycopg.connect(dsn, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def server_dsn() -> Iterator[str]:
    """A PostgreSQL server the tests may create databases on."""
    dsn = os.environ.get("TEST_DATABASE_URL", DEFAULT_SERVER)
    if _reachable(dsn):
        yield dsn
        return
    if "TEST_DATABASE_URL" in os.environ:
        pytest.fail(f"TEST_DATABASE_URL is set but unreachable: {dsn}")
    import pgserver

    data_dir = Path(tempfile.mkdtemp(prefix="ticketdesk-test-pg-", dir="/tmp"))
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def _dsn_for(server_dsn: str, dbname: str) -> str:
    return psycopg.conninfo.make_conninfo(server_dsn, dbname=dbname)


@pytest.fixture(scope="session")
async def session_db(server_dsn: str) -> AsyncIterator[str]:
    """The session's database, with every migration applied."""
    name = f"ticketdesk_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    await db.migrate(_dsn_for(server_dsn, name))
    yield name
    with psycopg.connect(server_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


@pytest.fixture
def empty_database(server_dsn: str) -> Iterator[str]:
    """A database that exists and holds nothing, not even the migrations, as on a new
    server; dropped after the test."""
    name = f"ticketdesk_empty_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    yield _dsn_for(server_dsn, name)
    with psycopg.connect(server_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


# Foreign keys between the tables, as (referencing, referenced) pairs.
_FOREIGN_KEYS = """
select c.conrelid::regclass::text, c.confrelid::regclass::text
from pg_constraint c join pg_namespace n on n.oid = c.connamespace
where c.contype = 'f' and n.nspname = 'public' and c.conrelid <> c.confrelid
"""
# Sequences owned by a table's column (serial or identity), the ones TRUNCATE ... RESTART
# IDENTITY would restart.
_OWNED_SEQUENCES = """
select s.oid::regclass::text
from pg_class s
join pg_depend d on d.classid = 'pg_class'::regclass and d.objid = s.oid
    and d.deptype in ('a', 'i')
join pg_class t on t.oid = d.refobjid
join pg_namespace n on n.oid = t.relnamespace
where s.relkind = 'S' and n.nspname = 'public' and t.relname <> 'schema_migrations'
"""


def _emptying_sql(conn: psycopg.Connection[Any]) -> sql.Composed:
    """Statements that remove every row, keeping the schema and its versions.

    Tables are emptied referencing ones first, so no foreign key ever points at a missing
    row, and the sequences they own start again, as TRUNCATE ... RESTART IDENTITY would.
    """
    tables = [
        row[0]
        for row in conn.execute(
            "select tablename from pg_tables"
            " where schemaname = 'public' and tablename <> 'schema_migrations'"
        )
    ]
    order = graphlib.TopologicalSorter({table: set[str]() for table in tables})
    for referencing, referenced in conn.execute(_FOREIGN_KEYS):
        order.add(referenced, referencing)
    deletes = [
        sql.SQL("delete from {}").format(sql.Identifier(table)) for table in order.static_order()
    ]
    sequences = [row[0] for row in conn.execute(_OWNED_SEQUENCES)]
    restart = sql.SQL(
        "select setval(seqrelid, seqstart, false) from pg_sequence"
        " where seqrelid = any({}::regclass[])"
    ).format(sql.Literal(sequences))
    # The audit trail's guard lets only the retention job delete; emptying is one too.
    allow = sql.SQL("select set_config('ticketdesk.audit_prune', 'on', true)")
    return sql.SQL("; ").join([allow, *deletes, restart])


@pytest.fixture(scope="session")
def emptying_sql(server_dsn: str, session_db: str) -> sql.Composed:
    """What empties the session's database, worked out once from its schema."""
    with psycopg.connect(_dsn_for(server_dsn, session_db)) as conn:
        return _emptying_sql(conn)


@pytest.fixture
def database_url(server_dsn: str, session_db: str, emptying_sql: sql.Composed) -> str:
    """The migrated test database, emptied for this test.

    Emptying one database is far cheaper than creating and dropping one per test (about a
    second each), and leaves tests just as isolated. DELETE rather than TRUNCATE: on tables
    holding a few rows DELETE takes about 20 ms, while TRUNCATE gives each of the twenty
    tables and their indexes new files, about 80 ms on an idle machine here and several
    times that on a busy one.
    """
    dsn = _dsn_for(server_dsn, session_db)
    with psycopg.connect(dsn, autocommit=True) as conn:
        # A test that left a connection open in a transaction would hold locks on its rows.
        conn.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity"
            " where datname = current_database() and pid <> pg_backend_pid()"
        )
        with conn.transaction():
            conn.execute(emptying_sql)
    return dsn


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 that keeps what it receives.

    To have ticketdesk send to it, a module overrides ``settings_overrides`` with
    ``{"smtp_url": smtp_server.url}``.
    """
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    """A running fake GitHub; its state starts empty."""
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP server on 127.0.0.1 that takes webhook deliveries and keeps them."""
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A real Redis of the test's own on 127.0.0.1, with a password, empty at the start.

    To have ticketdesk use it, a module overrides ``settings_overrides`` with
    ``{"redis_url": redis_server.url}``. Without redis-server installed the test fails.
    """
    try:
        server = RedisServer(password="redis-test-password-5150")
    except RedisMissing as exc:
        pytest.fail(f"the Redis tests need redis-server: {exc}")
    server.start()
    yield server
    server.close()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Per-test settings; override this fixture in a module to change them."""
    return {}


@pytest.fixture
def settings(database_url: str, tmp_path: Path, settings_overrides: dict[str, Any]) -> Settings:
    """Settings for a test: its own database and data directory."""
    return load_settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        **settings_overrides,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The application with its lifespan running."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[db.Connection]:
    """A direct connection to the test's database, for factories and checks."""
    async with await psycopg.AsyncConnection.connect(
        database_url, autocommit=True, row_factory=psycopg.rows.dict_row
    ) as connection:
        yield connection


@pytest.fixture
async def anon(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """A client with no credentials."""
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def accounts(app: FastAPI, conn: db.Connection) -> AsyncIterator[Accounts]:
    """An admin, an agent, two submitters and clients signed in as each (by token)."""
    async with make_accounts(app, conn) as made:
        yield made


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep the browser tests together on one xdist worker, so Chromium starts once.

    ``scripts/test`` runs three workers with ``--dist loadgroup``; without xdist the group
    is ignored and the browser tests run in file order as before.
    """
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))
