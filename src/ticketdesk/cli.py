"""The ``ticketdesk`` command: serve, worker, migrate, createuser, token, mail, demo, openapi.

What reaches the terminal: ``serve`` and ``worker`` tell their start-up one line a step
(what it did, how long it took), the other commands print their result, and a problem
(a database it cannot connect to, a port in use, a data directory it cannot write) is
one ``ticketdesk: …`` line on stderr with a non-zero exit. Ctrl-C stops a running
server or worker (status 0); before it is up, Ctrl-C cuts the command short quietly,
with status 130 as a shell reports it. Log records below warning go only to
``--log-file`` until the server is up; from then on ticketdesk's own lines and the
requests reach the terminal at ``log_level``, while the libraries' routine chatter
(pgserver, procrastinate, uvicorn's lifecycle) stays in the file. ``-v`` shows
everything the file gets.
"""

import argparse
import asyncio
import contextlib
import errno
import getpass
import json
import logging
import os
import select
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
import uvicorn
from fastapi import FastAPI
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

from ticketdesk import db, embedded, subscriptions, telemetry
from ticketdesk.app import create_app, end_live_streams
from ticketdesk.attachments.storage import open_storage
from ticketdesk.auth import service as auth
from ticketdesk.auth.schemas import MAX_TOKEN_LIFETIME
from ticketdesk.config import ConfigError, Settings, load_settings
from ticketdesk.demo import LOGINS, demo_accounts_exist, load_demo
from ticketdesk.errors import TicketdeskError
from ticketdesk.imports import django_helpdesk
from ticketdesk.mailbox import service as mailbox
from ticketdesk.mailbox.message import head_of
from ticketdesk.reports import service as reports
from ticketdesk.telemetry import JsonFormatter
from ticketdesk.users import service as users
from ticketdesk.worker import run_worker

log = logging.getLogger("ticketdesk")

# Loggers whose INFO lines narrate the library's own routine: pgserver's initdb
# transcript, procrastinate's worker start and every job, uvicorn's process lifecycle.
CHATTY_LOGGERS = ("pgserver", "procrastinate", "uvicorn.error")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# A failed step shows at most this many of the lines it logged.
FAILED_STEP_LINES = 20
# A database host that drops packets would otherwise keep a command waiting for minutes.
CONNECT_TIMEOUT_SECONDS = 10
# Exit codes of sysexits.h, which MTAs read: bad input, keep the mail and retry later.
EX_DATAERR = 65
EX_TEMPFAIL = 75
# The exit status of a command cut short by Ctrl-C (SIGINT), as shells report it: 128 + 2.
INTERRUPTED = 128 + signal.SIGINT
# How long requests under way when the server is told to stop may take to finish.
GRACEFUL_SHUTDOWN_SECONDS = 30
# How long server processes may take to stop (requests, then the job worker) before
# they are killed.
STOP_SECONDS = GRACEFUL_SHUTDOWN_SECONDS + 30


class DatabaseNotReady(Exception):
    """The database cannot be reached, or lacks migrations; the message says which."""


class CannotRun(Exception):
    """Something the command needs is unavailable; the message says what, and what to do.

    The port, the data directory, the log file or the metrics directory.
    """


class _Terminal(logging.Filter):
    """Which log records reach the terminal: warnings always, the rest once serving."""

    def __init__(self) -> None:
        super().__init__()
        self.verbose = False
        self.serving = False

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether the terminal shows ``record``."""
        if self.verbose or record.levelno >= logging.WARNING:
            return True
        if not self.serving:
            return False  # the steps say what start-up does; the log file has the detail
        return not any(
            record.name == name or record.name.startswith(f"{name}.") for name in CHATTY_LOGGERS
        )


# Logging is process-wide, and so is this: serve and worker tell it when they are up.
_terminal = _Terminal()


@contextmanager
def _logging(
    level: str, *, verbose: bool, log_file: Path | None, json_lines: bool
) -> Iterator[None]:
    """Log to the terminal (filtered by ``_terminal``) and, when given, all of it to a file;
    with ``json_lines``, each record as one JSON object a line."""
    root = logging.getLogger()
    formatter = JsonFormatter() if json_lines else logging.Formatter(LOG_FORMAT)
    terminal = logging.StreamHandler()
    if not verbose:  # with -v it shows all the log file gets
        terminal.setLevel(level.upper())
    terminal.addFilter(_terminal)
    handlers: list[logging.Handler] = [terminal]
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
        except OSError as exc:
            raise CannotRun(f"cannot write the log file {log_file}: {exc.strerror}") from None
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    previous_level = root.level
    threshold = logging.getLevelNamesMapping()[level.upper()]
    detailed = log_file is not None or verbose
    root.setLevel(min(threshold, logging.INFO) if detailed else threshold)
    _terminal.verbose = verbose or level == "debug"
    _terminal.serving = False
    try:
        yield
    finally:
        # main() also runs inside the test process: leave logging as it was found.
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(previous_level)


class _Step:
    """One start-up step in progress; ``result`` is what its line will say it did."""

    result = "done"


class Story:
    """Start-up told one line a step, with what each did and how long it took."""

    def __init__(self, log_file: Path | None) -> None:
        self.log_file = log_file

    @contextmanager
    def step(self, name: str) -> Iterator[_Step]:
        """Time a step and print its line; a failed one also shows the end of what it logged."""
        log.info("step: %s", name)
        logged_before = self._log_size()
        started = time.monotonic()
        step = _Step()
        try:
            yield step
        except Exception:
            print(f"  {name:<13} failed after {time.monotonic() - started:.1f} s", flush=True)
            self._show_log_since(logged_before)
            log.info("step %s failed", name, exc_info=True)
            raise
        print(f"  {name:<13} {step.result} ({time.monotonic() - started:.1f} s)", flush=True)

    def _log_size(self) -> int:
        if self.log_file is None or not self.log_file.exists():
            return 0
        return self.log_file.stat().st_size

    def _show_log_since(self, offset: int) -> None:
        if self.log_file is None or _terminal.verbose:  # with -v they are on the terminal
            return
        with self.log_file.open(encoding="utf-8", errors="replace") as file:
            file.seek(offset)
            lines = file.read().splitlines()[-FAILED_STEP_LINES:]
        if lines:
            print(f"  the last lines it logged to {self.log_file}:", file=sys.stderr)
            print("\n".join(f"    {line}" for line in lines), file=sys.stderr, flush=True)


def _where(dsn: str) -> str:
    """``host:port/dbname`` of a DSN: names a database without its password."""
    params = conninfo_to_dict(dsn)
    host = params.get("host") or params.get("hostaddr") or "localhost"
    return f"{host}:{params.get('port') or 5432}/{params.get('dbname') or ''}"


def _reason(exc: psycopg.OperationalError) -> str:
    """libpq's reason a connection failed, without its advice or its list of attempts."""
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    # "connection failed: connection to server at "h", port 1 failed: Connection refused"
    failures = [line for line in lines if "failed: " in line] or lines[:1]
    return failures[-1].rsplit("failed: ", 1)[-1].removeprefix("FATAL:").strip()


async def _check(dsn: str, *, migrated: bool) -> None:
    """Raise ``DatabaseNotReady`` if the database does not answer or, with ``migrated``,
    lacks some of the migrations."""
    try:
        conn = await psycopg.AsyncConnection.connect(
            dsn, connect_timeout=CONNECT_TIMEOUT_SECONDS, row_factory=dict_row
        )
    except psycopg.OperationalError as exc:
        raise DatabaseNotReady(
            f"cannot connect to the database at {_where(dsn)}: {_reason(exc)}"
        ) from None
    async with conn:
        pending = await db.pending_migrations(conn) if migrated else []
    if not pending:
        return
    if len(pending) == len(db.migration_files()):
        state = "has no ticketdesk schema"
    else:
        migrations = "migration" if len(pending) == 1 else "migrations"
        state = f"is behind: {len(pending)} {migrations} pending"
    raise DatabaseNotReady(f'the database at {_where(dsn)} {state}; run "ticketdesk migrate"')


@contextmanager
def database(settings: Settings, *, migrated: bool = True) -> Iterator[Settings]:
    """Settings with a database that answers: ``DATABASE_URL``, or the embedded server.

    With ``migrated``, the database must also hold every migration; commands that
    migrate it themselves pass ``migrated=False``.
    """
    if settings.database_url is not None:
        asyncio.run(_check(settings.database_url, migrated=migrated))
        yield settings
        return
    _writable_data_dir(settings.data_dir)
    try:
        server, dsn = embedded.start(settings.data_dir)
    except embedded.StartFailed as exc:
        raise DatabaseNotReady(str(exc)) from exc
    try:
        asyncio.run(_check(dsn, migrated=migrated))
        yield settings.model_copy(update={"database_url": dsn})
    finally:
        log.info("stopping embedded PostgreSQL")
        server.cleanup()


@contextmanager
def migrated_database(settings: Settings, story: Story) -> Iterator[Settings]:
    """The database and migrations steps of serve and worker: a database, migrated."""
    with contextlib.ExitStack() as stack:
        with story.step("database") as step:
            # The database outlives its step: it stays up until the command ends.
            ready = stack.enter_context(database(settings, migrated=False))
            step.result = (
                f"embedded PostgreSQL in {settings.data_dir}"
                if settings.database_url is None
                else f"PostgreSQL at {_where(settings.database_url)}"
            )
        with story.step("migrations") as step:
            assert ready.database_url is not None
            applied = asyncio.run(db.migrate(ready.database_url))
            step.result = f"{len(applied)} applied, to {applied[-1]}" if applied else "up to date"
        yield ready


@asynccontextmanager
async def connect(settings: Settings) -> AsyncIterator[db.Connection]:
    """One connection in one transaction, for commands that change data."""
    assert settings.database_url is not None
    async with (
        await psycopg.AsyncConnection.connect(settings.database_url, row_factory=dict_row) as conn,
        conn.transaction(),
    ):
        yield conn


def _run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coro)


def _writable_data_dir(path: Path) -> None:
    """Create the data directory, or raise ``CannotRun`` naming it if it cannot be written."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise CannotRun(
            f"cannot write to the data directory {path}: {exc.strerror};"
            " choose another with TICKETDESK_DATA_DIR"
        ) from None


def _shared_secret_key(settings: Settings) -> None:
    """Raise ``ConfigError`` when a database of the operator's own comes without a key:
    every API replica and worker on it must sign and check links, cookies and reply
    addresses with the same key, so one cannot be generated per process."""
    if settings.database_url is not None and settings.secret_key is None:
        raise ConfigError(
            "invalid configuration:\n  secret_key (TICKETDESK_SECRET_KEY): "
            "required when database_url (DATABASE_URL) is set"
        )


def _writable_metrics_dir(workers: int) -> None:
    """Raise ``CannotRun`` unless ``PROMETHEUS_MULTIPROC_DIR``, when set, is a directory
    this process can write: prometheus_client writes each figure to a file there, and
    would fail every request instead. ``workers`` server processes need it set: without
    it each would answer a scrape with its own share of the requests."""
    path = os.environ.get(telemetry.MULTIPROC_DIR_ENV)
    if path is None:
        if workers > 1:
            raise CannotRun(
                f"--workers {workers} with metrics needs {telemetry.MULTIPROC_DIR_ENV}: an"
                " empty directory the server processes add up their figures in"
            )
        return
    if not path:
        # prometheus_client would then write its files to the working directory.
        raise CannotRun(
            f"{telemetry.MULTIPROC_DIR_ENV} is set but empty: name a directory, or unset it"
        )
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise CannotRun(
            f"cannot write to {telemetry.MULTIPROC_DIR_ENV} {path}: {exc.strerror};"
            " create it, or name another"
        ) from None


def _authority(host: str, port: int) -> str:
    """``host:port`` as a URL writes it: an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _listen(host: str, port: int, *, shared: bool = False) -> socket.socket:
    """A socket listening on ``host:port``, or ``CannotRun`` saying why there is none.

    Bound before start-up, and handed to uvicorn: a port that is taken fails at once,
    and nothing can take it between this check and serving. A name is resolved as a
    server resolves it: its first address, IPv4 or IPv6. A ``shared`` one lets
    ``_sibling`` sockets listen on the port too.
    """
    where = _authority(host, port)
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise CannotRun(f"cannot listen on {where}: {exc.strerror}") from None
    family, kind, protocol, _, address = addresses[0]
    try:
        if shared:
            # SO_REUSEPORT would let this bind join another process's sockets on the port
            # (another serve of this user's): a plain bind first finds the port taken.
            with socket.socket(family, kind, protocol) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(address)
        sock = socket.socket(family, kind, protocol)
    except OSError as exc:
        raise _cannot_listen(where, exc) from None
    try:
        # Like uvicorn: a port left in TIME_WAIT by the previous run can be bound again.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if shared:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen()  # uvicorn sets its own backlog when it starts serving
    except OSError as exc:
        sock.close()
        raise _cannot_listen(where, exc) from None
    return sock


def _cannot_listen(where: str, exc: OSError) -> CannotRun:
    if exc.errno == errno.EADDRINUSE:
        return CannotRun(
            f"{where} is already in use; choose another port with TICKETDESK_PORT or --port"
        )
    return CannotRun(f"cannot listen on {where}: {exc.strerror}")


def _sibling(sock: socket.socket) -> socket.socket:
    """Another socket listening where the ``shared`` ``sock`` does. The kernel spreads new
    connections over them (by their addresses' hash), where one socket that several
    processes accept from would leave most connections to whichever wakes first."""
    sibling = socket.socket(sock.family, sock.type, sock.proto)
    sibling.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sibling.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sibling.bind(sock.getsockname())
    sibling.listen()
    return sibling


class _Server(uvicorn.Server):
    """A uvicorn server that calls ``on_ready`` once it listens, not before, and ends the
    app's live-update streams when it stops; with ``parent``, it also stops should that
    process go away (killed with no chance to stop it)."""

    def __init__(
        self,
        config: uvicorn.Config,
        app: FastAPI,
        on_ready: Callable[[], None],
        parent: int | None = None,
    ) -> None:
        super().__init__(config)
        self.app = app
        self.on_ready = on_ready
        self.parent = parent

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start as uvicorn does (it exits on failure), then say it is ready."""
        await super().startup(sockets)
        if self.should_exit:  # Ctrl-C during start-up: it stops without having served
            return
        _terminal.serving = True  # before the banner: once told it runs, Ctrl-C stops it
        self.on_ready()

    async def on_tick(self, counter: int) -> bool:
        """Stop, as on SIGTERM, once the parent is gone (the process was adopted)."""
        if self.parent is not None and os.getppid() != self.parent:
            self.should_exit = True
        return await super().on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Stop as uvicorn does, once the event streams, which never end by themselves,
        are ended."""
        end_live_streams(self.app)
        await super().shutdown(sockets)


def _default_workers(settings: Settings) -> int:
    """One process a core for a database of one's own; the embedded one serves a demo."""
    if settings.database_url is None:
        return 1
    return len(os.sched_getaffinity(0))


def _uvicorn_config(app: FastAPI, settings: Settings, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,  # uvicorn serves the socket given, and names these in its messages
        port=port,
        log_level=settings.log_level,
        # Our handlers, not uvicorn's own: one format, and its lifecycle kept quiet.
        log_config=None,
        # The app decides whose X-Forwarded-For to believe (trusted_proxies); uvicorn's
        # own default believes any loopback peer.
        proxy_headers=False,
        server_header=False,
        # In JSON, the app logs each request itself, with more than uvicorn knows.
        access_log=settings.log_format == "text",
        # Requests under way when it is told to stop may finish for this long; the event
        # streams, which never finish, are ended at once.
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )


def serve(settings: Settings, args: argparse.Namespace) -> None:
    """Migrate, load demo data into a new embedded database, and serve until Ctrl-C."""
    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers or settings.workers or _default_workers(settings)
    _shared_secret_key(settings)
    if settings.secret_key is None or settings.s3.bucket is None:
        _writable_data_dir(settings.data_dir)  # for the generated key, or the attachments
    if settings.metrics_token is not None:
        _writable_metrics_dir(workers)
    demo_wanted = settings.database_url is None and not args.no_demo
    story = Story(args.log_file)
    with (
        _listen(host, port, shared=workers > 1) as sock,
        migrated_database(settings, story) as ready,
    ):
        show_logins = False
        if demo_wanted:
            with story.step("demo data") as step:
                show_logins, step.result = asyncio.run(_ensure_demo(ready))
        banner = _banner(host, port, show_logins=show_logins)
        if workers == 1:
            app = create_app(ready, worker=not args.no_worker)
            config = _uvicorn_config(app, ready, host, port)
            _Server(config, app, lambda: print(banner, flush=True)).run(sockets=[sock])
            return
        ready.secret()  # a generated key is written now, before the processes read it

        def run(index: int, on_ready: Callable[[], None]) -> None:
            # The first process serves the socket taken at start-up (and what waits on
            # it), each of the others a sibling; the first runs the jobs: one worker,
            # however many processes.
            listener = sock if index == 0 else _sibling(sock)
            if listener is not sock:
                sock.close()
            app = create_app(ready, worker=index == 0 and not args.no_worker)
            config = _uvicorn_config(app, ready, host, port)
            _Server(config, app, on_ready, parent=os.getppid()).run(sockets=[listener])

        _supervise(workers, run, banner)


# What stops serve; --workers passes them on to the server processes.
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _exit_status(wait_status: int) -> str:
    code = os.waitstatus_to_exitcode(wait_status)
    return f"status {code}" if code >= 0 else f"signal {signal.Signals(-code).name}"


def _child(index: int, run: Callable[[int, Callable[[], None]], None], ready: int) -> NoReturn:
    """The forked server process ``index``: serve until stopped, then exit, leaving what the
    parent holds (the embedded database, its exit handlers) to the parent."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def listening() -> None:
        os.write(ready, b".")

    code = 1
    try:
        # Held back since the fork, so that the parent's handlers never ran here; one that
        # came meanwhile is taken now, by this process's own.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        run(index, listening)
        code = 0
    except SystemExit as exc:  # uvicorn's, when the app fails to start
        code = exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        code = 0
    except BaseException:
        log.exception("server process %d failed", index + 1)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _supervise(count: int, run: Callable[[int, Callable[[], None]], None], banner: str) -> None:
    """Fork ``count`` server processes that ``run`` on the socket they inherit, print the
    banner once all of them listen, and return when all have exited.

    SIGINT or SIGTERM is passed on as SIGTERM (a second SIGINT as SIGINT, which cuts
    their wait for requests short), then raised again here once they have stopped, as
    uvicorn does. A process that exits on its own stops the others, and ``serve`` with
    one line and status 1: whatever runs ``serve`` (systemd, Kubernetes) restarts it.
    """
    received: list[int] = []
    children: dict[int, int] = {}  # pid → index

    def on_signal(sig: int, frame: object) -> None:
        received.append(sig)
        passed = signal.SIGINT if sig == signal.SIGINT and len(received) > 1 else signal.SIGTERM
        _signal_all(children, passed)

    readable, writable = os.pipe()
    previous = {sig: signal.signal(sig, on_signal) for sig in _STOP_SIGNALS}
    failed = ""
    try:
        for index in range(count):
            if received:
                break
            signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
            try:
                pid = os.fork()
                if pid == 0:
                    os.close(readable)
                    _child(index, run, writable)
                children[pid] = index
            finally:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        if received:
            # A signal handled while a process was being forked did not reach it.
            _signal_all(children, signal.SIGTERM)
        os.close(writable)
        failed = _watch(children, readable, count, banner, received)
    finally:
        os.close(readable)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failed:
        raise CannotRun(failed)
    if received:
        signal.raise_signal(received[0])


def _signal_all(children: dict[int, int], sig: int) -> None:
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _watch(
    children: dict[int, int], ready: int, count: int, banner: str, received: list[int]
) -> str:
    """Wait for the server processes to exit; what went wrong, if one exited on its own."""
    listening = 0
    failed = ""
    stopping_since: float | None = None
    watched = [ready]
    while children:
        if (received or failed) and stopping_since is None:
            stopping_since = time.monotonic()
        if stopping_since is not None and time.monotonic() - stopping_since > STOP_SECONDS:
            log.warning("server processes did not stop in %d s; killing them", STOP_SECONDS)
            _signal_all(children, signal.SIGKILL)
            stopping_since = float("inf")
        if select.select(watched, [], [], 0.2)[0]:
            said = os.read(ready, 64)
            if not said:
                watched = []  # every process has closed its end
            listening += len(said)
            if said and listening == count and not (received or failed):
                _terminal.serving = True
                print(banner, flush=True)
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            index = children.pop(pid)
            if not (received or failed):
                failed = (
                    f"server process {index + 1} of {count} (pid {pid}) exited with"
                    f" {_exit_status(status)}; the others were stopped"
                )
                _signal_all(children, signal.SIGTERM)
    return failed


async def _load_demo(settings: Settings) -> bool:
    async with connect(settings) as conn:
        return await load_demo(conn, reopen_window=settings.reopen_window)


async def _ensure_demo(settings: Settings) -> tuple[bool, str]:
    """Load demo data into a new database; whether the demo logins work, and what happened."""
    async with connect(settings) as conn:
        if await load_demo(conn, reopen_window=settings.reopen_window):
            return True, f"loaded: {len(LOGINS)} accounts and their tickets"
        if await demo_accounts_exist(conn):
            return True, "already loaded"
        return False, "not loaded: the database has other users"


def _banner(host: str, port: int, *, show_logins: bool) -> str:
    url = f"http://{_authority(host, port)}/"
    lines = ["", f"  ticketdesk is running at {url}", f"  API documentation: {url}api/v1/docs"]
    if show_logins:
        lines.append("  Demo logins:")
        lines += [f"    {login.role:<6} {login.email:<22} {login.password}" for login in LOGINS]
    lines.append("  Press Ctrl-C to stop.\n")
    return "\n".join(lines)


def worker(settings: Settings, args: argparse.Namespace) -> None:
    """Run background jobs (GitHub sync, the IMAP mailbox, clean-up) until Ctrl-C."""
    _shared_secret_key(settings)
    with migrated_database(settings, Story(args.log_file)) as ready:
        _terminal.serving = True
        print("\n  ticketdesk worker is running jobs. Press Ctrl-C to stop.\n", flush=True)
        asyncio.run(run_worker(ready, concurrency=args.concurrency))


def migrate(settings: Settings, args: argparse.Namespace) -> None:
    """Apply pending migrations."""
    with database(settings, migrated=False) as ready:
        assert ready.database_url is not None
        applied = asyncio.run(db.migrate(ready.database_url))
        print(f"applied: {', '.join(applied)}" if applied else "the schema is up to date")


def createuser(settings: Settings, args: argparse.Namespace) -> None:
    """Create an account."""

    async def create(ready: Settings, password: str) -> None:
        async with connect(ready) as conn:
            user = await users.create_user(
                conn,
                email=args.email,
                name=args.name or args.email.split("@")[0],
                role=args.role,
                password=password,
                internal_domains=ready.internal_email_domains,
            )
        print(f"created {user.role} {user.email} ({user.id})")

    # The database is checked first, so that nobody types a password for nothing.
    with database(settings) as ready:
        _run(create(ready, args.password or getpass.getpass("Password: ")))


def _workers(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError("must be a whole number, 1 or more")
    return count


def _token_days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_TOKEN_LIFETIME.days:
        raise argparse.ArgumentTypeError(
            f"must be a whole number from 1 to {MAX_TOKEN_LIFETIME.days}"
        )
    return days


def token_create(settings: Settings, args: argparse.Namespace) -> None:
    """Print a new personal access token for a user."""

    async def create(ready: Settings) -> None:
        async with connect(ready) as conn:
            user = await users.get_user_by_email(conn, args.email)
            days = args.expires_in_days
            token = await auth.create_token(
                conn,
                user.id,
                args.name,
                scope="read" if args.read_only else "write",
                expires_at=datetime.now(UTC) + timedelta(days=days) if days else None,
            )
        print(token.token)

    with database(settings) as ready:
        _run(create(ready))


class _Undone(Exception):
    """Leaves the transaction rolled back, with what was found."""

    def __init__(self, outcome: django_helpdesk.Outcome) -> None:
        self.outcome = outcome


def import_django_helpdesk(settings: Settings, args: argparse.Namespace) -> None:
    """Import the tickets of a django-helpdesk database or REST API (all or none)."""

    async def read() -> django_helpdesk.Helpdesk:
        if args.database_url is not None:
            return await django_helpdesk.read_database(args.database_url)
        return await django_helpdesk.read_api(
            args.api_url, token=args.token, username=args.user, password=args.password
        )

    async def run(ready: Settings) -> django_helpdesk.Outcome:
        helpdesk = await read()
        try:
            async with connect(ready) as conn:
                outcome = await django_helpdesk.run(
                    conn,
                    helpdesk,
                    admin_email=args.as_admin,
                    internal_domains=ready.internal_email_domains,
                    dry_run=args.dry_run,
                )
                if args.dry_run or outcome.failing_rows:
                    # The labels and agents made for the check go too.
                    raise _Undone(outcome)
        except _Undone as undone:
            return undone.outcome
        return outcome

    if args.api_url is not None and args.token is None and args.user is None:
        raise CannotRun("--api-url needs --token, or --user and --password")
    if args.user is not None and args.password is None:
        args.password = getpass.getpass("django-helpdesk password: ")
    with database(settings) as ready:
        try:
            outcome = asyncio.run(run(ready))
        except django_helpdesk.SourceError as exc:
            raise CannotRun(str(exc)) from None
    for line in django_helpdesk.summary(outcome, dry_run=args.dry_run):
        print(line)
    if outcome.failing_rows:
        raise SystemExit(1)


async def _take_in(settings: Settings, raw: bytes, size: int) -> mailbox.Delivery:
    async with connect(settings) as conn:
        if size > mailbox.max_mail_bytes(settings):
            return await mailbox.receive_too_large(
                conn, settings, head_of(raw), size, source="pipe"
            )
        return await mailbox.receive(conn, open_storage(settings), settings, raw, source="pipe")


def _read_mail(limit: int) -> tuple[bytes, int]:
    """Standard input up to ``limit`` bytes and one more, and its whole size: the rest
    of a larger mail is read and dropped, so the MTA is not left writing to no one."""
    raw = sys.stdin.buffer.read(limit + 1)
    size = len(raw)
    while chunk := sys.stdin.buffer.read(1024 * 1024):
        size += len(chunk)
    return raw, size


def _one_line(text: str) -> str:
    """``text`` as one line: its lines joined by "; ", or by a space after a colon."""
    joined = ""
    for line in (line.strip() for line in text.strip().splitlines()):
        joined += ("" if not joined else " " if joined.endswith(":") else "; ") + line
    return joined or "(no detail)"


def mail_ingest(settings: Settings, args: argparse.Namespace) -> None:
    """Take in one mail from standard input (an MTA's pipe).

    The exit code is what the MTA acts on. 0: the mail is ticketdesk's now, whatever
    became of it (posted, ignored, refused or kept for admins; each is recorded). A
    refusal does not bounce: the sender of a refused mail is often forged, and the
    reason would tell who has an account. 75 (EX_TEMPFAIL): the MTA keeps the mail and
    delivers it again later; that is the answer to anything unexpected, a configuration
    error included, so a mistake never loses mail. 65: nothing on standard input.
    """
    if settings.database_url is None:
        # Starting the embedded PostgreSQL for each mail would race with serve's own.
        print("ticketdesk: mail ingest needs DATABASE_URL; try again later", file=sys.stderr)
        raise SystemExit(EX_TEMPFAIL)
    # A key of its own would recognise no reply address the API's mails gave out.
    _shared_secret_key(settings)
    raw, size = _read_mail(mailbox.max_mail_bytes(settings))
    if not raw.strip():
        print("ticketdesk: no message on standard input", file=sys.stderr)
        raise SystemExit(EX_DATAERR)
    try:
        with database(settings) as ready:
            delivery = asyncio.run(_take_in(ready, raw, size))
    except DatabaseNotReady as exc:
        print(f"ticketdesk: {exc}", file=sys.stderr)
        raise SystemExit(EX_TEMPFAIL) from None
    except psycopg.OperationalError as exc:
        print(f"ticketdesk: the database failed: {_reason(exc)}", file=sys.stderr)
        raise SystemExit(EX_TEMPFAIL) from None
    except KeyboardInterrupt:
        # Stopped halfway: nothing was committed, the MTA delivers it again.
        raise SystemExit(EX_TEMPFAIL) from None
    mail = delivery.mail
    if delivery.duplicate:
        print(f"already taken in: message {mail.id} ({mail.status})")
    elif mail.status == "failed":
        # Kept for admins (GET /api/v1/admin/inbound-mail); the MTA need not retry.
        reason = (mail.reason or "").partition("\n")[0]
        print(f"ticketdesk: kept as message {mail.id} for admins: {reason}", file=sys.stderr)
    else:
        reason = f" ({mail.reason})" if mail.reason else ""
        print(f"{mail.status}{reason}: message {mail.id}")


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"no such time zone: {value}") from None
    return value


def reports_rebuild(settings: Settings, args: argparse.Namespace) -> None:
    """Build the reports' daily rollups again from the tickets as they are now."""

    async def rebuild(ready: Settings) -> None:
        async with connect(ready) as conn:
            count = await reports.rebuild(conn, zone=args.time_zone)
            zone = await reports.time_zone(conn)
        print(f"rebuilt the reports from {count} tickets, days in {zone}")

    with database(settings) as ready:
        _run(rebuild(ready))


def demo(settings: Settings, args: argparse.Namespace) -> None:
    """Load demo data into an empty database."""
    with database(settings, migrated=False) as ready:
        assert ready.database_url is not None
        asyncio.run(db.migrate(ready.database_url))
        if asyncio.run(_load_demo(ready)):
            for login in LOGINS:
                print(f"{login.role:<6} {login.email:<22} {login.password}")
        else:
            print("the database already has users; demo data not loaded")


def openapi(settings: Settings, args: argparse.Namespace) -> None:
    """Print the OpenAPI document."""
    document = create_app(settings).openapi()
    print(json.dumps(document, indent=2, ensure_ascii=False))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ticketdesk", description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, help="YAML settings file (or TICKETDESK_CONFIG)")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show every log line on the terminal"
    )
    parser.add_argument("--log-file", type=Path, help="also append every log line to this file")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, handler: Callable[[Settings, argparse.Namespace], None]) -> Any:
        sub = commands.add_parser(name, help=(handler.__doc__ or "").strip())
        sub.set_defaults(handler=handler)
        return sub

    sub = command("serve", serve)
    sub.add_argument("--host")
    sub.add_argument("--port", type=int)
    sub.add_argument("--no-demo", action="store_true", help="do not load demo data")
    sub.add_argument(
        "--workers",
        type=_workers,
        metavar="N",
        help="server processes (or TICKETDESK_WORKERS; default: one a core with"
        " DATABASE_URL, else 1)",
    )
    sub.add_argument("--no-worker", action="store_true", help="run no jobs in this process")
    sub = command("worker", worker)
    sub.add_argument("--concurrency", type=int, help="jobs at once (default: jobs.concurrency)")
    command("migrate", migrate)
    sub = command("createuser", createuser)
    sub.add_argument("--email", required=True)
    sub.add_argument("--password", help="prompted for when left out")
    sub.add_argument("--role", choices=["user", "agent", "admin"], default="user")
    sub.add_argument("--name")
    token = commands.add_parser("token", help="Personal access tokens.")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    sub = token_commands.add_parser("create", help="Print a new personal access token.")
    sub.set_defaults(handler=token_create)
    sub.add_argument("--email", required=True)
    sub.add_argument("--name", required=True)
    sub.add_argument("--read-only", action="store_true", help="GET and HEAD requests only")
    sub.add_argument(
        "--expires-in-days",
        type=_token_days,
        metavar="DAYS",
        help=f"1 to {MAX_TOKEN_LIFETIME.days}; without it, the token never expires",
    )
    mail = commands.add_parser("mail", help="Mail that arrives.")
    mail_commands = mail.add_subparsers(dest="mail_command", required=True)
    sub = mail_commands.add_parser(
        "ingest",
        help="Take in one mail from standard input (an MTA's pipe). Exit 0: taken in "
        "(posted, ignored, refused or kept for admins); 75: try again later.",
    )
    sub.set_defaults(handler=mail_ingest)
    imports = commands.add_parser("import", help="Import tickets from another helpdesk.")
    import_commands = imports.add_subparsers(dest="import_command", required=True)
    sub = import_commands.add_parser(
        "django-helpdesk",
        help="Import a django-helpdesk's tickets, from its database or its REST API: all"
        " of them or, when one would fail, none (--dry-run: only say what would happen).",
    )
    sub.set_defaults(handler=import_django_helpdesk)
    source = sub.add_mutually_exclusive_group(required=True)
    source.add_argument("--database-url", help="postgresql://... of its database")
    source.add_argument("--api-url", help="its REST API's root, e.g. https://help.example.com/api/")
    sub.add_argument("--token", help="with --api-url: a staff user's API token")
    sub.add_argument("--user", help="with --api-url: a staff user's name (basic auth)")
    sub.add_argument("--password", help="with --user; prompted for when left out")
    sub.add_argument(
        "--as",
        dest="as_admin",
        required=True,
        metavar="EMAIL",
        help="the admin the import is recorded under",
    )
    sub.add_argument("--dry-run", action="store_true", help="check every ticket, write nothing")
    report = commands.add_parser("reports", help="The reports' daily rollups.")
    report_commands = report.add_subparsers(dest="reports_command", required=True)
    sub = report_commands.add_parser(
        "rebuild",
        help="Build the rollups again from the tickets as they are now (changes to tickets"
        " wait until it is done).",
    )
    sub.set_defaults(handler=reports_rebuild)
    sub.add_argument(
        "--time-zone",
        type=_time_zone,
        metavar="ZONE",
        help="split days at this IANA zone's midnights from now on (default: keep the zone)",
    )
    command("demo", demo)
    command("openapi", openapi)
    return parser


def _fail(message: str, code: int) -> NoReturn:
    if code == 1:
        sys.exit(f"ticketdesk: {message}")
    # An MTA logs one line of what its pipe said.
    print(f"ticketdesk: {_one_line(message)}", file=sys.stderr)
    raise SystemExit(code)


def _main(args: argparse.Namespace, failure: int) -> None:
    subscriptions.install()
    try:
        settings = load_settings(args.config)
        with _logging(
            settings.log_level,
            verbose=args.verbose,
            log_file=args.log_file,
            json_lines=settings.log_format == "json",
        ):
            args.handler(settings, args)
    except TicketdeskError as exc:
        _fail(exc.detail, failure)
    except (ConfigError, DatabaseNotReady, CannotRun) as exc:
        _fail(str(exc), failure)
    except KeyboardInterrupt:
        if failure != 1:
            _fail("interrupted; try again later", failure)
        # Ctrl-C is how a running server or worker is stopped; before it was up, the
        # command was cut short, and says so by its status, as a shell does.
        if not _terminal.serving:
            sys.exit(INTERRUPTED)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``ticketdesk`` command."""
    args = _parser().parse_args(argv)
    if args.handler is not mail_ingest:
        _main(args, failure=1)
        return
    # For an MTA: whatever goes wrong, one line and "try again later", never a traceback
    # or a bounce; the mail waits in the MTA's queue until the cause is fixed.
    try:
        _main(args, failure=EX_TEMPFAIL)
    except Exception as exc:
        log.debug("mail ingest failed", exc_info=True)
        _fail(f"{type(exc).__name__}: {_one_line(str(exc))}; try again later", EX_TEMPFAIL)
