"""An embedded PostgreSQL in the data directory, for running without a database server.

pgserver ships PostgreSQL binaries in a wheel. As root it runs the server as a
``pgserver`` system user, so the data directory must be reachable by that user.
"""

import logging
import os
import shutil
import subprocess
from pathlib import Path
from typing import Protocol

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

DATABASE = "ticketdesk"


class StartFailed(Exception):
    """The embedded server did not start; the message says why, or where its log is."""


class EmbeddedServer(Protocol):
    """What ticketdesk uses of a pgserver handle."""

    def get_uri(self, database: str | None = None) -> str: ...

    def cleanup(self) -> None: ...


def start(data_dir: Path) -> tuple[EmbeddedServer, str]:
    """Start (or attach to) the embedded server; return it and the ticketdesk DSN."""
    data_dir = data_dir.resolve()
    if "XDG_RUNTIME_DIR" not in os.environ:
        # pgserver keeps its lock file in the user's runtime directory, which root lacks.
        # Only its owner may read it, or platformdirs warns and uses /tmp/runtime-<uid>.
        runtime = data_dir / "run"
        runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
        runtime.chmod(0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    pgdata = data_dir / "postgres"
    if not (pgdata / "PG_VERSION").exists():
        _initialize(pgdata)
    log.info("starting embedded PostgreSQL in %s", pgdata)
    server = _server(pgdata)
    try:
        with psycopg.connect(server.get_uri(), autocommit=True) as conn:
            exists = conn.execute("select 1 from pg_database where datname = %s", (DATABASE,))
            if exists.fetchone() is None:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(DATABASE)))
    except psycopg.OperationalError as exc:
        server.cleanup()
        reason = str(exc).strip().splitlines()[0]
        raise StartFailed(f"the embedded PostgreSQL in {pgdata} does not answer: {reason}") from exc
    return server, server.get_uri(DATABASE)


def _initialize(pgdata: Path) -> None:
    """Create the cluster beside ``pgdata`` and move it there once it is whole.

    Ctrl-C during initdb can leave a cluster that has its PG_VERSION but lacks a
    database; in place, every later start would take it for a whole one and fail.
    """
    partial = pgdata.with_name(f"{pgdata.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)  # what a first start cut short left
    partial.mkdir(parents=True)
    log.info("initializing embedded PostgreSQL in %s", partial)
    _server(partial).cleanup()
    try:
        partial.rename(pgdata)  # an empty directory there (initdb cut short) is replaced
    except OSError as exc:
        raise StartFailed(
            f"cannot set up the embedded PostgreSQL in {pgdata}: {exc.strerror}"
        ) from exc


def _server(pgdata: Path) -> EmbeddedServer:
    from pgserver.postgres_server import get_server

    try:
        server: EmbeddedServer = get_server(pgdata, cleanup_mode="stop")
    except subprocess.SubprocessError as exc:  # initdb or pg_ctl failed; pgserver logged why
        raise StartFailed(
            f"the embedded PostgreSQL in {pgdata} did not start; its log: {pgdata / 'log'}"
        ) from exc
    return server
