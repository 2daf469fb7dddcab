"""Connection pool, the per-request transaction and the migration runner."""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources
from time import monotonic
from typing import Annotated, Any, cast
from weakref import WeakKeyDictionary

import psycopg
from fastapi import Depends, Request
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

log = logging.getLogger(__name__)

Connection = psycopg.AsyncConnection[DictRow]

# Any fixed number: every ticketdesk process takes this lock before migrating.
MIGRATION_LOCK_ID = 7_461_020_031


# A request waits this long for a connection (all in use, or the server down), then
# ends with a 503 ``busy``.
POOL_TIMEOUT_SECONDS = 30.0
# A connection handed out this recently is handed out again unchecked.
CHECK_AFTER_IDLE_SECONDS = 1.0


class _CheckWhenIdle:
    """The pool's ``check``: a connection not handed out in the last
    ``CHECK_AFTER_IDLE_SECONDS`` (or never) is tried with an empty query before it is, and
    replaced if the server dropped it (a restart, a failover, an idle timeout). Under load
    every connection is handed out more often than that, so no request pays the round
    trip; one that meets a connection dropped since ends with a 503 ``busy``, and the pool
    discards that connection."""

    def __init__(self) -> None:
        self._handed_out: WeakKeyDictionary[psycopg.AsyncConnection[Any], float] = (
            WeakKeyDictionary()
        )

    async def __call__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        now = monotonic()
        if now - self._handed_out.get(conn, float("-inf")) >= CHECK_AFTER_IDLE_SECONDS:
            await AsyncConnectionPool.check_connection(conn)
        self._handed_out[conn] = now


async def open_pool(
    dsn: str, *, min_size: int = 2, max_size: int = 10, wait_seconds: float = POOL_TIMEOUT_SECONDS
) -> AsyncConnectionPool:
    """Open a pool whose connections return rows as dicts; ``wait_seconds``: how long
    taking a connection may wait."""
    pool: AsyncConnectionPool = AsyncConnectionPool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        timeout=wait_seconds,
        kwargs={"row_factory": dict_row, "autocommit": True},
        check=_CheckWhenIdle(),
        open=False,
        name="ticketdesk",
    )
    try:
        await pool.open(wait=True, timeout=30)
    except BaseException:
        # Left open, a pool that timed out or was cancelled (Ctrl-C while starting) keeps
        # reconnecting in the background, and the process never exits.
        await pool.close()
        raise
    return pool


async def app_pool(request: Request) -> AsyncConnectionPool:
    """The running app's connection pool."""
    pool: AsyncConnectionPool = request.app.state.pool
    return pool


Pool = Annotated[AsyncConnectionPool, Depends(app_pool)]


@asynccontextmanager
async def transaction(pool: AsyncConnectionPool) -> AsyncIterator[Connection]:
    """A pooled connection in one transaction: committed when the block ends, else rolled
    back. Endpoints take ``Transaction`` instead; this is for work that must not hold a
    transaction for a whole request (a long upload) and for jobs."""
    async with pool.connection() as conn, conn.transaction():
        yield cast(Connection, conn)


# Work a request leaves for after its transaction (``after_transaction``).
AfterTransaction = Callable[[Connection], Awaitable[None]]


def after_transaction(request: Request, write: AfterTransaction) -> None:
    """Have ``write`` run once the request's transaction has ended, committed or rolled
    back, in a short transaction of its own on the same connection: what it writes is
    kept whatever becomes of the request, and its row locks are not held while the
    request runs (where another connection, even the request's own second one, would
    wait for them)."""
    request.state.after_transaction = [*getattr(request.state, "after_transaction", []), write]


async def _request_transaction(request: Request, pool: Pool) -> AsyncIterator[Connection]:
    async with pool.connection() as conn:
        try:
            async with conn.transaction():
                yield cast(Connection, conn)
        finally:
            for write in getattr(request.state, "after_transaction", []):
                if conn.closed:
                    break
                async with conn.transaction():
                    await write(cast(Connection, conn))


# One transaction per request: committed when the endpoint returns, else rolled back.
# scope="function": commit before the response is sent, so a 2xx means it is stored.
Transaction = Annotated[Connection, Depends(_request_transaction, scope="function")]


def migration_files() -> list[tuple[str, str]]:
    """The packaged migrations as ``(version, sql)``, in order."""
    folder = resources.files("ticketdesk") / "migrations"
    files = sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    )
    return [(name.removesuffix(".sql"), sql) for name, sql in files]


async def migrate(dsn: str) -> list[str]:
    """Apply pending migrations under an advisory lock; return the versions applied."""
    applied: list[str] = []
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await conn.execute("select pg_advisory_lock(%s)", (MIGRATION_LOCK_ID,))
        try:
            await conn.execute(
                "create table if not exists schema_migrations ("
                " version text primary key,"
                " applied_at timestamptz not null default now())"
            )
            cur = await conn.execute("select version from schema_migrations")
            done = {row[0] for row in await cur.fetchall()}
            for version, sql in migration_files():
                if version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute(
                        "insert into schema_migrations (version) values (%s)", (version,)
                    )
                log.info("applied migration %s", version)
                applied.append(version)
        finally:
            await conn.execute("select pg_advisory_unlock(%s)", (MIGRATION_LOCK_ID,))
    return applied


async def pending_migrations(conn: Connection) -> list[str]:
    """The packaged migrations this database has not applied (all of them on a new one)."""
    versions = conn.cursor(row_factory=psycopg.rows.scalar_row)
    await versions.execute("select to_regclass('schema_migrations') is not null")
    if not await versions.fetchone():
        return [version for version, _ in migration_files()]
    await versions.execute("select version from schema_migrations")
    done = set(await versions.fetchall())
    return [version for version, _ in migration_files() if version not in done]


def constraint_name(exc: psycopg.Error) -> str | None:
    """The constraint a driver error is about, for translating it by name."""
    name: str | None = exc.diag.constraint_name
    return name


@asynccontextmanager
async def connection(pool: AsyncConnectionPool) -> AsyncIterator[Connection]:
    """A pooled connection outside any transaction: each statement commits on its own."""
    async with pool.connection() as conn:
        yield cast(Connection, conn)


async def _request_connection(pool: Pool) -> AsyncIterator[Connection]:
    async with connection(pool) as conn:
        yield conn


AutocommitConnection = Annotated[Connection, Depends(_request_connection, scope="function")]
