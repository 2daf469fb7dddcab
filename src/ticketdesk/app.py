"""The ASGI application: ``create_app(settings)`` and its lifespan."""

import asyncio
import functools
import hmac
import ipaddress
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from psycopg_pool import AsyncConnectionPool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from ticketdesk import db, subscriptions, telemetry
from ticketdesk.api_docs import mount_api_docs
from ticketdesk.attachments.endpoints import router as attachments_router
from ticketdesk.attachments.storage import open_storage
from ticketdesk.audit.endpoints import router as audit_router
from ticketdesk.auth.endpoints import router as auth_router
from ticketdesk.body_limit import BodyLimit, limits_by_route
from ticketdesk.canned.endpoints import router as canned_router
from ticketdesk.comments.endpoints import router as comments_router
from ticketdesk.config import AppSettings, Settings
from ticketdesk.csat.endpoints import router as csat_router
from ticketdesk.errors import (
    PROBLEM_JSON,
    Forbidden,
    InvalidInput,
    NotFound,
    TicketdeskError,
    TooLarge,
    Unauthorized,
    Unavailable,
    install_error_handlers,
    literal_path_methods,
    problem_responses,
)
from ticketdesk.events.endpoints import router as events_router
from ticketdesk.exports.endpoints import router as exports_router
from ticketdesk.fields.endpoints import router as fields_router
from ticketdesk.github.endpoints import router as github_router
from ticketdesk.headers import ResponseHeaders
from ticketdesk.imports.csv_files import MAX_BYTES as MAX_IMPORT_BYTES
from ticketdesk.imports.endpoints import router as imports_router
from ticketdesk.instance.endpoints import router as instance_router
from ticketdesk.jobs.endpoints import router as jobs_router
from ticketdesk.labels.endpoints import router as labels_router
from ticketdesk.live.endpoints import router as live_router
from ticketdesk.live.hub import Hub, ReconnectWait
from ticketdesk.live.service import Timing
from ticketdesk.mailbox.endpoints import router as mailbox_router
from ticketdesk.merges.endpoints import router as merges_router
from ticketdesk.notifications.endpoints import router as notifications_router
from ticketdesk.presence.board import PRESENCE_TTL, PresenceBoard
from ticketdesk.presence.endpoints import router as presence_router
from ticketdesk.rate_limits import RateLimiter
from ticketdesk.redis_client import REPROBE_SECONDS, SharedRedis
from ticketdesk.reports.endpoints import router as reports_router
from ticketdesk.routing.endpoints import router as routing_router
from ticketdesk.saved_views.endpoints import router as saved_views_router
from ticketdesk.sla.endpoints import router as sla_router
from ticketdesk.sla.endpoints import ticket_router as sla_ticket_router
from ticketdesk.spa import mount_spa
from ticketdesk.teams.endpoints import router as teams_router
from ticketdesk.telemetry import HideSecretsInPaths, RequestTelemetry
from ticketdesk.tickets.endpoints import router as tickets_router
from ticketdesk.users.endpoints import router as users_router
from ticketdesk.webhooks.endpoints import router as webhooks_router
from ticketdesk.worker import alongside_app

log = logging.getLogger(__name__)


def _hide_secrets_in_access_log() -> None:
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, HideSecretsInPaths) for f in access_log.filters):
        access_log.addFilter(HideSecretsInPaths())


OPENAPI_URL = "/api/v1/openapi.json"
DOCS_URL = "/api/v1/docs"
API_DESCRIPTION = """\
The ticketdesk REST API. Authenticate with the session cookie set by
`POST /api/v1/auth/login` (and echo `X-CSRF-Token` on unsafe requests), or with a
personal access token as `Authorization: Bearer tdpat_…`.

Errors are RFC 9457 `application/problem+json` documents with a stable `code` and,
where one field is at fault, its name in `field`.

Requests are read strictly: a body field an operation does not describe is a 422 naming
it (`extra_forbidden`), never dropped; booleans and integers must be JSON's own (`0` is
not `false`, `"2"` is not `2`); integer and boolean query parameters are written in
digits and as `true` or `false`, date-time ones as RFC 3339 with their offset
(`2025-01-02T12:00:00Z`); a body that is not well-formed JSON is a 422
`malformed_body`. A method a path does not serve is a 405 whose `Allow` lists those it
does.

Names: a ticket's labels are its `tags` (the seed's name), each the name of a label of
`/labels`; lists filter on them with `tags` (`tag`, its former name, is still taken).
A comment is written as `comment` (the seed's name) and read back as `comment`; `body`,
its former name in answers, still carries the same text.
"""

_LANDING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ticketdesk</title></head>
<body><h1>ticketdesk</h1>
<p>The API is at <a href="/api/v1/docs">/api/v1/docs</a>
(OpenAPI document: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>).</p>
</body></html>
"""


async def _tickets_switched_on(settings: AppSettings) -> None:
    """With ``tickets.enabled: false`` the ticket routes are not there."""
    if not settings.tickets.enabled:
        raise NotFound("Tickets are switched off on this server.", code="tickets_disabled")


_TICKET_ROUTERS = (
    tickets_router,
    comments_router,
    attachments_router,
    events_router,
    merges_router,
    csat_router,
    live_router,
    github_router,
    presence_router,
    canned_router,
    saved_views_router,
    sla_ticket_router,
    exports_router,
    reports_router,
)


async def _method_served(request: Request) -> None:
    """A path the API names literally (``/tickets/bulk``, ``/users/invitations``) asked
    with a method it does not serve is a 405, though a route with a parameter
    (``/tickets/{id}``) would take the path."""
    allowed = literal_path_methods(request)
    if allowed and request.method not in allowed:
        raise HTTPException(405, headers={"Allow": ", ".join(allowed)})


# Built once a process: every app serves the same API routes, and FastAPI works out each
# route's parameters and models when the router is made (about 0.2 s of CPU).
@functools.cache
def _api_router() -> APIRouter:
    api = APIRouter(prefix="/api/v1", dependencies=[Depends(_method_served)])
    for router in (
        auth_router,
        users_router,
        tickets_router,
        comments_router,
        attachments_router,
        events_router,
        merges_router,
        csat_router,
        live_router,
        presence_router,
        canned_router,
        saved_views_router,
        exports_router,
        labels_router,
        fields_router,
        sla_router,
        sla_ticket_router,
        teams_router,
        routing_router,
        reports_router,
        github_router,
        jobs_router,
        mailbox_router,
        notifications_router,
        webhooks_router,
        imports_router,
        audit_router,
        instance_router,
    ):
        if router in _TICKET_ROUTERS:
            api.include_router(
                router,
                dependencies=[Depends(_tickets_switched_on)],
                responses=problem_responses(NotFound),
            )
        else:
            api.include_router(router)
    return api


class _App(FastAPI):
    """FastAPI with ``ResponseHeaders`` around everything, its error pages included, and
    inside it, when metrics or JSON logs are on, ``RequestTelemetry``."""

    def __init__(self, *, https: bool, metrics: bool, json_logs: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.https = https
        self.metrics = metrics
        self.json_logs = json_logs

    def build_middleware_stack(self) -> ASGIApp:
        """Wrap the stack Starlette builds, whose outermost layer answers unhandled errors."""
        app = super().build_middleware_stack()
        if self.metrics or self.json_logs:
            app = RequestTelemetry(
                app, self.routes, metrics=self.metrics, access_log=self.json_logs
            )
        return ResponseHeaders(app, https=self.https)


def _proxy_peers(trusted_proxies: list[str]) -> list[str]:
    """The peers whose forwarded headers are believed: ``trusted_proxies``, each IPv4 one
    also as a dual-stack socket (``--host ::``) names its peer, ``::ffff:10.0.0.5``."""
    peers = list(trusted_proxies)
    for value in trusted_proxies:
        network = ipaddress.ip_network(value)
        if network.version == 4:
            peers.append(f"::ffff:{network.network_address}/{96 + network.prefixlen}")
    return peers


def create_app(
    settings: Settings,
    *,
    pool: AsyncConnectionPool | None = None,
    worker: bool = False,
    live_timing: Timing = Timing(),  # noqa: B008 (immutable)
    live_reconnect_wait: ReconnectWait = asyncio.sleep,
    presence_ttl: timedelta = PRESENCE_TTL,
    redis_reprobe_seconds: float = REPROBE_SECONDS,
    pool_timeout: float = db.POOL_TIMEOUT_SECONDS,
) -> FastAPI:
    """Build the app; with ``pool`` given, use it instead of opening one; with ``worker``,
    also run background jobs in-process (``ticketdesk serve`` without ``--no-worker``);
    ``live_timing``: the event streams' heartbeat and credential checks;
    ``live_reconnect_wait``: how the live listener waits before connecting again;
    ``presence_ttl``: how long a mark of presence on a ticket lasts unless renewed;
    ``redis_reprobe_seconds``: how often a Redis that went away is tried again;
    ``pool_timeout``: how long a request waits for a database connection before its 503."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_pool = pool is None
        assert settings.database_url is not None, "the CLI resolves the database first"
        app.state.secret = settings.secret()
        app.state.pool = pool or await db.open_pool(
            settings.database_url, wait_seconds=pool_timeout
        )
        app.state.storage = open_storage(settings)
        redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
        app.state.redis = (
            SharedRedis(redis_url, reprobe_seconds=redis_reprobe_seconds) if redis_url else None
        )
        if app.state.redis is not None:
            await app.state.redis.start()
        app.state.rate_limiter = RateLimiter(settings.rate_limits, app.state.redis)
        app.state.presence = PresenceBoard(app.state.redis, ttl=presence_ttl)
        # No ticket routes, no event stream: nothing to listen for.
        live = (
            Hub(settings.database_url, app.state.pool, reconnect_wait=live_reconnect_wait)
            if settings.tickets.enabled
            else None
        )
        app.state.live = live
        try:
            if live is not None:
                await live.start()
            async with (
                alongside_app(settings, app.state.pool, run_jobs=worker),
                telemetry.sampling(app.state.pool, enabled=metrics),
            ):
                yield
        finally:
            try:
                if live is not None:
                    await live.stop()
                if app.state.redis is not None:
                    await app.state.redis.close()
            finally:
                if own_pool:
                    await app.state.pool.close()

    subscriptions.install()
    _hide_secrets_in_access_log()
    metrics = settings.metrics_token is not None
    app = _App(
        https=settings.public_url.startswith("https://"),
        metrics=metrics,
        json_logs=settings.log_format == "json",
        title="ticketdesk",
        version="1",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.live_timing = live_timing
    install_error_handlers(app)
    app.include_router(_api_router())
    app.add_middleware(
        BodyLimit,
        limit_for=limits_by_route(
            {
                # Uploads stream to storage and enforce the attachment limits themselves.
                r"/api/v1/tickets/[^/]+/attachments": None,
                # GitHub sends webhook payloads of up to 25 MB.
                r"/api/v1/integrations/github/webhook": 25 * 1024 * 1024,
                # CSV files of tickets to import.
                r"/api/v1/imports": MAX_IMPORT_BYTES,
            }
        ),
    )
    # The one place a request's client address and scheme are decided: X-Forwarded-For
    # and -Proto are believed from the configured proxies only (none by default), however
    # the app is served; ``ticketdesk serve`` turns uvicorn's own handling of them off.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=_proxy_peers(settings.trusted_proxies))

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(pool: db.Pool) -> JSONResponse:
        """The process can reach its database."""
        try:
            async with pool.connection(timeout=2) as conn:
                await conn.execute("select 1")
        except Exception:
            log.warning("readiness check failed", exc_info=True)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics(request: Request) -> Response:
        """Prometheus's scrape, with ``metrics_token`` as a bearer token; without one set,
        there is nothing here."""
        token = settings.metrics_token
        if token is None:
            raise HTTPException(404, detail="Not Found")
        scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not sent.strip():
            raise Unauthorized(
                "Send the metrics token as Authorization: Bearer <token>.",
                code="metrics_token_missing",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not hmac.compare_digest(sent.strip().encode(), token.get_secret_value().encode()):
            raise Forbidden("The metrics token is wrong.", code="metrics_token_wrong")
        scraped = await telemetry.scrape(await db.app_pool(request))
        return Response(scraped, media_type=CONTENT_TYPE_LATEST)

    mount_api_docs(app, docs_url=DOCS_URL, openapi_url=OPENAPI_URL)
    if not mount_spa(app):

        @app.get("/", include_in_schema=False)
        async def landing() -> HTMLResponse:
            """Where to find the API documentation, when the web app is not built."""
            return HTMLResponse(_LANDING)

    _document_problems(app)
    # Built now rather than on the first request, which would otherwise wait for it.
    app.openapi()
    return app


def end_live_streams(app: FastAPI) -> None:
    """End the app's open event streams: the server is stopping, and would otherwise wait
    for them (uvicorn lets open responses finish before it stops)."""
    hub: Hub | None = getattr(app.state, "live", None)
    if hub is not None:
        hub.close()


def _describe_event_stream(content: dict[str, Any]) -> None:
    """A ``text/event-stream`` whose frames are described (``itemSchema``): its body is a
    string of them, whatever its route's model is."""
    stream = content.get("text/event-stream")
    if stream is not None and "itemSchema" in stream:
        stream["schema"] = {"type": "string"}


def _describe_json_parameter(parameter: dict[str, Any]) -> None:
    """A parameter whose text is JSON (``contentMediaType``) is described by its
    ``content``, so clients and fuzzers send JSON of that shape."""
    schema = parameter.get("schema", {})
    if schema.get("contentMediaType") == "application/json":
        del parameter["schema"]
        parameter["content"] = {"application/json": {"schema": schema["contentSchema"]}}


def _headers(response: dict[str, Any]) -> dict[str, Any]:
    return {"headers": response["headers"]} if "headers" in response else {}


# The OpenAPI document, built by the first app of the process. Every app describes the
# same routes (the ones that differ, like the web app's, are left out of the document), and
# building it takes most of a second of CPU, which every API request would otherwise pay
# on each new app (errors.literal_path_methods reads it).
_documents: dict[str, dict[str, Any]] = {}


def _document_problems(app: FastAPI) -> None:
    """Describe every error response as problem+json, FastAPI's own 422 included."""
    original = app.openapi
    problem = {"$ref": "#/components/schemas/Problem"}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _documents.get("api")
        if app.openapi_schema is None:
            schema = original()
            for operation in (op for path in schema["paths"].values() for op in path.values()):
                for parameter in operation.get("parameters", []):
                    _describe_json_parameter(parameter)
                # Every operation may find the database busy, every body may be too large
                # or not well-formed.
                common: tuple[type[TicketdeskError], ...] = (Unavailable,)
                if "requestBody" in operation:
                    common += (TooLarge, InvalidInput)
                for status, response in problem_responses(*common).items():
                    operation.setdefault("responses", {}).setdefault(
                        str(status), {"description": response["description"], **_headers(response)}
                    )
                # In status order, wherever a response was declared (route or router).
                operation["responses"] = dict(sorted(operation.get("responses", {}).items()))
                for status, response in operation["responses"].items():
                    _describe_event_stream(response.get("content", {}))
                    if status.startswith(("4", "5")):
                        title = "Invalid input" if status == "422" else response["description"]
                        response["description"] = title
                        response["content"] = {PROBLEM_JSON: {"schema": problem}}
            for name in ("HTTPValidationError", "ValidationError"):
                schema["components"]["schemas"].pop(name, None)
            app.openapi_schema = _documents["api"] = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
