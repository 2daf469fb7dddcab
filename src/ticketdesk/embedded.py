"""An embedded PostgreSQL in the data directory, for running without a database server.

pgserver ships PostgreSQL binaries in a wheel. As root it runs the server as a
``pgserver`` system user, so the data directory must be reachable by that user.
"""

import contextlib
import fcntl
import logging
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import psutil
import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

DATABASE = "ticketdesk"
# How long a server stopped after a start cut short may take to shut down.
STOP_SECONDS = 10


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
    # One command at a time creates the cluster and its database; the others wait.
    with _locked(data_dir / "postgres.lock"):
        if not (pgdata / "PG_VERSION").exists():
            _initialize(pgdata)
        log.info("starting embedded PostgreSQL in %s", pgdata)
        server = _server(pgdata)
        try:
            with psycopg.connect(server.get_uri(), autocommit=True) as conn:
                exists = conn.execute("select 1 from pg_database where datname = %s", (DATABASE,))
                if exists.fetchone() is None:
                    conn.execute(sql.SQL("create database {}").format(sql.Identifier(DATABASE)))
        except BaseException as exc:  # Ctrl-C too: the caller has no server to stop yet
            server.cleanup()
            if isinstance(exc, psycopg.OperationalError):
                reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise StartFailed(
                    f"the embedded PostgreSQL in {pgdata} does not answer: {reason}"
                ) from exc
            raise
    return server, server.get_uri(DATABASE)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path``, waiting for any other command's."""
    with path.open("a") as file:
        fcntl.flock(file, fcntl.LOCK_EX)  # released when the file is closed
        yield


def _initialize(pgdata: Path) -> None:
    """Create the cluster beside ``pgdata`` and move it there once it is whole.

    Ctrl-C during initdb can leave a cluster that has its PG_VERSION but lacks a
    database; in place, every later start would take it for a whole one and fail.
    """
    if pgdata.is_dir() and any(pgdata.iterdir()):
        raise StartFailed(
            f"{pgdata} holds files but no PostgreSQL cluster (it has no PG_VERSION);"
            " remove that directory, or move it elsewhere, and the next start creates one"
        )
    partial = pgdata.with_name(f"{pgdata.name}.partial")
    # What a first start cut short left: a server may even be running there.
    _stop_started(partial, running_before=None)
    shutil.rmtree(partial, ignore_errors=True)
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
    """Start (or attach to) the server in ``pgdata``, initializing it first if it is new."""
    from pgserver.postgres_server import get_server

    running_before = _postmaster_pid(pgdata)
    try:
        server: EmbeddedServer = get_server(pgdata, cleanup_mode="stop")
    except BaseException as exc:
        # pg_ctl detaches the server from the terminal: if it failed, or Ctrl-C stopped
        # it (or us) while it waited, the server may go on starting with nobody to stop it.
        _stop_started(pgdata, running_before=running_before)
        if isinstance(exc, subprocess.SubprocessError):  # pgserver logged why
            raise StartFailed(
                f"the embedded PostgreSQL in {pgdata} did not start; its log: {pgdata / 'log'}"
            ) from exc
        raise
    return server


def _postmaster_pid(pgdata: Path) -> int | None:
    """The process id of the server running in ``pgdata``, from its lock file.

    A lock file left by a server that died with the machine may name a process id that
    is now another program's: only a postgres serving ``pgdata`` counts.
    """
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        process = psutil.Process(pid)
        serves_pgdata = process.name() == "postgres" and str(pgdata) in process.cmdline()
    except (OSError, ValueError, psutil.Error):
        return None
    return pid if serves_pgdata else None


def _stop_started(pgdata: Path, *, running_before: int | None) -> None:
    """Stop the server running in ``pgdata`` unless it is the one ``running_before``.

    A server that has not written its lock file yet is not seen here; the next start
    finds it running, uses it, and stops it when done, as any server it attaches to.
    """
    pid = _postmaster_pid(pgdata)
    if pid is None or pid == running_before:
        return
    log.info("stopping the embedded PostgreSQL left starting in %s", pgdata)
    with contextlib.suppress(ProcessLookupError):  # it may have exited since
        os.kill(pid, signal.SIGINT)  # PostgreSQL's fast shutdown
    deadline = time.monotonic() + STOP_SECONDS
    while _postmaster_pid(pgdata) == pid and time.monotonic() < deadline:
        time.sleep(0.1)
