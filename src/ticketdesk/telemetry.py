"""What a running server tells about itself: Prometheus metrics, and JSON log lines.

Metrics (``/metrics``, with ``metrics_token`` set): requests and their latency by route
template, method and status, counted here as each request ends; the jobs and the
connection pool, read when Prometheus scrapes, never per request; and the process's.
Several server processes on one host (``PROMETHEUS_MULTIPROC_DIR`` set in their
environment when they start) write their figures to files in that directory, and
whichever answers a scrape reports the sum of all of them (prometheus_client's
multiprocess mode).

Logs (``log_format: json``): every record one JSON object a line, and one record a
request, with its request id, route, status, duration and the signed-in user's id.
Secrets in paths (an unsubscribe link's token) are hidden in both formats.
"""

import asyncio
import contextlib
import contextvars
import functools
import json
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime

from fastapi.routing import iter_route_contexts
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from psycopg_pool import AsyncConnectionPool
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticketdesk import db
from ticketdesk.jobs import service as jobs

access_log = logging.getLogger("ticketdesk.access")

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The route of a request no route took (an unknown /api path): one label for them all.
UNMATCHED = "unmatched"
# Methods outside these are counted together, so that made-up ones add no series.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# How often each process writes its pool's figures for the others' scrapes (multiprocess).
SAMPLE_SECONDS = 5.0
# The states of jobs still in the table (succeeded ones are deleted; see worker.py).
JOB_STATES = ("todo", "doing", "failed")
# procrastinate's queue when a task names none (ticketdesk's tasks do not).
DEFAULT_QUEUE = "default"

# A live gauge's file in PROMETHEUS_MULTIPROC_DIR, as prometheus_client names it: its
# mode and the process's id (``gauge_livesum_1234.db``).
_LIVE_GAUGE_FILE = re.compile(r"gauge_live[a-z]*_(\d+)\.db")

# A path with a secret in it: an unsubscribe link's token, on the API and on the page the
# link leads to (it works without signing in).
_SECRET_IN_PATH = re.compile(r"(/unsubscribe/)[^/?#\s]+")

REQUESTS = Counter(
    "ticketdesk_http_requests",
    "HTTP requests answered, by route template, method and status code.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "ticketdesk_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by route template, method "
    "and status class (2xx, 4xx, …).",
    ["route", "method", "status_class"],
)
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "ticketdesk_request_id", default=None
)


def multiprocess_dir() -> str | None:
    """The directory the server processes share their metrics in, if they do."""
    return os.environ.get(MULTIPROC_DIR_ENV) or None


def hide_secrets(path: str) -> str:
    """``path`` with the secret of an unsubscribe link replaced by ``…``."""
    return _SECRET_IN_PATH.sub(r"\1…", path)


class HideSecretsInPaths(logging.Filter):
    """Replaces the secret in the paths of uvicorn's access-log records with ``…``."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep ``record``, its path without the secret."""
        if isinstance(record.args, tuple):
            record.args = tuple(
                hide_secrets(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


class RouteTemplates:
    """The template of the route that took a request (``/api/v1/tickets/{id}``), for a
    label: never the path itself, whose ids would each make new series."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        # A route of an included router knows its path within that router only; the app
        # knows where the router was included.
        self._templates = {
            id(context.original_route): context.path_format
            for context in iter_route_contexts(routes)
        }

    def of(self, scope: Scope, status: int) -> str:
        """The template of the route that took the request, or ``UNMATCHED``. A catch-all
        route (the web app's) that refused the request took nothing in effect."""
        route = scope.get("route")
        if route is None:
            return UNMATCHED
        template = self._templates.get(id(route), getattr(route, "path_format", None))
        if not isinstance(template, str) or (template == "/{path}" and 400 <= status < 500):
            return UNMATCHED
        return template


class RequestTelemetry:
    """Count and time each HTTP request (``metrics``), and log it as one record
    (``access_log``) with the fields the JSON format writes.

    Sits inside ``ResponseHeaders`` (whose request id it reads) and outside Starlette's
    error handling (so an unhandled error is seen as the 500 it becomes); the route, the
    client's address (as the trusted proxies make it) and the user are read from the
    scope once the app has answered.
    """

    def __init__(
        self, app: ASGIApp, routes: Sequence[BaseRoute], *, metrics: bool, access_log: bool
    ) -> None:
        self.app = app
        self.routes = RouteTemplates(routes)
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request, then record what became of it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts: an error that escaped everything

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        state = scope.setdefault("state", {})
        token = _request_id.set(state.get("request_id"))
        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            seconds = time.perf_counter() - started
            route = self.routes.of(scope, status)
            method = scope["method"] if scope["method"] in _METHODS else "other"
            if self.metrics:
                REQUESTS.labels(route, method, str(status)).inc()
                LATENCY.labels(route, method, f"{status // 100}xx").observe(seconds)
            if self.access_log:
                client = scope.get("client")
                path = hide_secrets(scope["path"])
                access_log.info(
                    "%s %s %s",
                    scope["method"],
                    path,
                    status,
                    extra={
                        "method": scope["method"],
                        "route": route,
                        "path": path,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 2),
                        "user_id": state.get("user_id"),
                        "client": client[0] if client else None,
                    },
                )
            _request_id.reset(token)


# The fields of a record that the JSON format writes besides its message: the request
# record's (``RequestTelemetry``), and the request id any record may be given.
_REQUEST_FIELDS = ("method", "route", "path", "status", "duration_ms", "user_id", "client")


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time, level, logger, message, the request it was
    logged in (its id) and, for the request's own record, what became of it."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        when = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, object] = {
            "time": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or _request_id.get()
        if request_id:
            entry["request_id"] = request_id
        for name in _REQUEST_FIELDS:
            if name in record.__dict__:
                entry[name] = record.__dict__[name]
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


@functools.cache
def _pool_gauges() -> dict[str, Gauge]:
    """The pool's figures by their ``get_stats`` names, summed over the live processes.
    Made by the processes that serve: a command that only imports this module leaves no
    files of its own in ``PROMETHEUS_MULTIPROC_DIR``."""
    return {
        "pool_size": Gauge(
            "ticketdesk_db_pool_size",
            "Database connections open in the pool, in use or not.",
            multiprocess_mode="livesum",
        ),
        "pool_max": Gauge(
            "ticketdesk_db_pool_max_size",
            "The most database connections the pool may open.",
            multiprocess_mode="livesum",
        ),
        "pool_available": Gauge(
            "ticketdesk_db_pool_available",
            "Database connections open and not in use.",
            multiprocess_mode="livesum",
        ),
        "requests_waiting": Gauge(
            "ticketdesk_db_pool_waiting",
            "Requests waiting for a database connection.",
            multiprocess_mode="livesum",
        ),
    }


def _sample_pool(pool: AsyncConnectionPool) -> None:
    stats = pool.get_stats()
    for name, gauge in _pool_gauges().items():
        gauge.set(stats.get(name, 0))


@functools.cache
def _process_gauges() -> dict[str, Gauge]:
    """Per process in multiprocess mode (a ``pid`` label each): the scraping process's
    own process_* metrics would describe one process as if it were all of them. Made,
    like the pool's, by the processes that serve only."""
    return {
        "process_resident_memory_bytes": Gauge(
            "ticketdesk_process_resident_memory_bytes",
            "Resident memory of each server process.",
            multiprocess_mode="liveall",
        ),
        "process_cpu_seconds": Gauge(
            "ticketdesk_process_cpu_seconds",
            "CPU time used by each server process, user and system.",
            multiprocess_mode="liveall",
        ),
        "process_open_fds": Gauge(
            "ticketdesk_process_open_fds",
            "Open file descriptors of each server process.",
            multiprocess_mode="liveall",
        ),
    }


def _sample_process() -> None:
    gauges = _process_gauges()
    for family in ProcessCollector(registry=None).collect():
        gauge = gauges.get(family.name)
        if gauge is not None and family.samples:
            gauge.set(family.samples[0].value)


def _sample(pool: AsyncConnectionPool) -> None:
    _sample_pool(pool)
    if multiprocess_dir():
        _sample_process()


@contextlib.asynccontextmanager
async def sampling(pool: AsyncConnectionPool, *, enabled: bool) -> AsyncIterator[None]:
    """For the app's lifespan, with metrics ``enabled``: in multiprocess mode, write this
    process's pool and process figures every ``SAMPLE_SECONDS`` for whichever process
    answers a scrape, and take them away when the process stops. One process alone reads
    them as it answers the scrape, and needs nothing here."""
    if not enabled or not multiprocess_dir():
        yield
        return

    async def keep_sampling() -> None:
        while True:
            _sample(pool)
            await asyncio.sleep(SAMPLE_SECONDS)

    task = asyncio.create_task(keep_sampling(), name="metrics sampler")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        # A live gauge counts the live processes only.
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


class _Families:
    """A collector of metric families read beforehand."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[Metric]:
        """The families, as read."""
        return self.families


def _job_families(counts: list[jobs.JobCount]) -> list[Metric]:
    queues = sorted({DEFAULT_QUEUE} | {count.queue_name for count in counts})
    by_state = {(count.queue_name, count.status): count for count in counts}
    total = GaugeMetricFamily(
        "ticketdesk_jobs",
        "Jobs waiting (todo), running (doing) and given up (failed), by queue.",
        labels=["queue", "state"],
    )
    due = GaugeMetricFamily(
        "ticketdesk_jobs_due",
        "The queue's depth: waiting jobs whose time has come (not those scheduled later).",
        labels=["queue"],
    )
    for queue in queues:
        for state in JOB_STATES:
            count = by_state.get((queue, state))
            total.add_metric([queue, state], count.jobs if count else 0)
        waiting = by_state.get((queue, "todo"))
        due.add_metric([queue], waiting.due if waiting else 0)
    return [total, due]


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


def _forget_ended_processes(directory: str) -> None:
    """Take away the live gauges of processes that ended without taking them away
    themselves (killed, or out of memory): a live gauge counts the running ones only."""
    for name in os.listdir(directory):
        match = _LIVE_GAUGE_FILE.fullmatch(name)
        if match and not _running(int(match[1])):
            # Another scrape may be taking them away too.
            with contextlib.suppress(FileNotFoundError):
                multiprocess.mark_process_dead(int(match[1]), directory)  # type: ignore[no-untyped-call]


async def scrape(pool: AsyncConnectionPool) -> bytes:
    """Every metric in Prometheus's text format: this process's, or with
    ``PROMETHEUS_MULTIPROC_DIR`` all the server processes' together, and the jobs'."""
    async with db.connection(pool) as conn:
        counts = await jobs.count_jobs(conn)
    _sample(pool)
    registry = CollectorRegistry()
    if directory := multiprocess_dir():
        _forget_ended_processes(directory)
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Families(REGISTRY.collect()))
    registry.register(_Families(_job_families(counts)))
    return generate_latest(registry)
