"""The error tree and its one HTTP handler (RFC 9457 problem+json).

    TicketdeskError                500 internal
    ├── Unauthorized               401 unauthorized
    ├── Forbidden                  403 forbidden
    ├── NotFound                   404 not_found
    ├── Conflict                   409 conflict (business-rule refusals: invalid_transition …)
    ├── PreconditionFailed         412 precondition_failed
    ├── TooLarge                   413 too_large
    ├── UnsupportedMediaType       415 unsupported_media_type
    ├── InvalidInput               422 invalid_input (payload shape, with the field)
    ├── RateLimited                429 rate_limited (Retry-After)
    └── Unavailable                503 unavailable

Services raise these; driver errors are translated where they happen, by constraint
name. A database that cannot serve now (connection lost, pool exhausted, deadlock) is a
503 ``busy`` with ``Retry-After``. Anything else becomes a bare 500 that reveals nothing.
"""

import logging
import re
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any, ClassVar

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    """One failing field of a request."""

    field: str
    message: str
    code: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    field: str | None = None
    errors: list[FieldError] | None = None
    request_id: str | None = None


class TicketdeskError(Exception):
    """Base of every error a request may end with."""

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal server error"
    default_code: ClassVar[str] = "internal"
    # The headers every such answer carries, as OpenAPI declares them.
    response_headers: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.default_code
        self.field = field
        self.headers = headers or {}


class Unauthorized(TicketdeskError):
    """No valid credentials."""

    status = 401
    title = "Unauthorized"
    default_code = "unauthorized"


class Forbidden(TicketdeskError):
    """Authenticated, but this role may not do this."""

    status = 403
    title = "Forbidden"
    default_code = "forbidden"


class NotFound(TicketdeskError):
    """Missing, or not visible to the caller (the two are indistinguishable)."""

    status = 404
    title = "Not found"
    default_code = "not_found"


class Conflict(TicketdeskError):
    """The request contradicts the current state or a business rule."""

    status = 409
    title = "Conflict"
    default_code = "conflict"


class PreconditionFailed(TicketdeskError):
    """``If-Match`` named a version that is no longer current."""

    status = 412
    title = "Precondition failed"
    default_code = "precondition_failed"


class TooLarge(TicketdeskError):
    """The body or a file is over a limit."""

    status = 413
    title = "Content too large"
    default_code = "too_large"


class UnsupportedMediaType(TicketdeskError):
    """The content is of a type that is not accepted."""

    status = 415
    title = "Unsupported media type"
    default_code = "unsupported_media_type"


class InvalidInput(TicketdeskError):
    """A field has the wrong shape or value."""

    status = 422
    title = "Invalid input"
    default_code = "invalid_input"


class RateLimited(TicketdeskError):
    """Too many attempts; try again after ``Retry-After`` seconds."""

    status = 429
    title = "Too many requests"
    default_code = "rate_limited"
    response_headers: ClassVar[dict[str, Any]] = {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer", "minimum": 1},
        }
    }

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class Unavailable(TicketdeskError):
    """A dependency the request needs is down; try again after ``Retry-After`` seconds."""

    status = 503
    title = "Service unavailable"
    default_code = "unavailable"
    response_headers: ClassVar[dict[str, Any]] = {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer", "minimum": 1},
        }
    }

    def __init__(self, detail: str, *, code: str, retry_after: int) -> None:
        super().__init__(detail, code=code, headers={"Retry-After": str(retry_after)})


def problem_type(code: str) -> str:
    """The ``type`` URI of a problem with this code."""
    return f"https://ticketdesk.dev/problems/{code.replace('_', '-')}"


def problem_response(
    status: int,
    title: str,
    detail: str,
    code: str,
    *,
    request: Request,
    field: str | None = None,
    errors: Sequence[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Render one problem document."""
    problem = Problem(
        type=problem_type(code),
        title=title,
        status=status,
        detail=detail,
        code=code,
        field=field,
        errors=list(errors) if errors else None,
        request_id=getattr(request.state, "request_id", None),
    )
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _field_path(loc: Sequence[int | str]) -> str:
    # FastAPI prefixes the location with where it came from: body, query, path, header.
    parts = list(loc[1:]) if loc and loc[0] in {"body", "query", "path"} else list(loc)
    if loc and loc[0] in {"query", "path"}:
        # A parameter is one field to the caller, repeated (?status=a&status=b) or of
        # several forms (assignee: me, none or an id).
        parts = parts[:1]
    # A value of several forms (a sort: one of the names, or cf.<key>) adds the form it
    # failed as, such as literal['created',…]; the caller's field is the name before it.
    parts = [p for p in parts if isinstance(p, int) or _FIELD_NAME.fullmatch(p)]
    return ".".join(str(p) for p in parts) or "body"


async def _on_ticketdesk_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TicketdeskError)
    errors = [FieldError(field=exc.field, message=exc.detail, code=exc.code)] if exc.field else None
    return problem_response(
        exc.status,
        exc.title,
        exc.detail,
        exc.code,
        request=request,
        field=exc.field,
        errors=errors,
        headers=exc.headers,
    )


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldError(field=_field_path(err["loc"]), message=_message(err), code=err["type"])
        for err in exc.errors()
    ]
    first = errors[0]
    return problem_response(
        422,
        InvalidInput.title,
        f"{first.field}: {first.message}",
        "invalid_input",
        request=request,
        field=first.field,
        errors=errors,
    )


def _message(err: dict[str, Any]) -> str:
    message = str(err["msg"])
    return message.removeprefix("Value error, ")


_METHODS = ("get", "put", "post", "delete", "patch")


def allowed_methods(request: Request) -> list[str]:
    """The methods the API describes at this request's path: those of the paths without
    parameters that match it if any (``/tickets/bulk``), else of every matching one."""
    paths: dict[str, dict[str, Any]] = request.app.openapi()["paths"]
    matching = [template for template in paths if compile_path(template)[0].match(request.url.path)]
    literal = [template for template in matching if "{" not in template]
    return sorted(
        {method.upper() for t in (literal or matching) for method in paths[t] if method in _METHODS}
    )


def literal_path_methods(request: Request) -> list[str]:
    """The methods of the path the API describes with exactly this request's path and no
    parameters (``/tickets/bulk``), if it has one."""
    item = request.app.openapi()["paths"].get(request.url.path, {})
    return sorted(method.upper() for method in item if method in _METHODS)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status, detail, headers = exc.status_code, str(exc.detail), dict(exc.headers or {})
    if status in (404, 405):
        # Routing's own answers: a path that another method serves is a 405 that lists
        # every method served there (Starlette names only the first route's).
        allowed = allowed_methods(request)
        if allowed:
            status, detail = 405, f"{request.method} is not served here; use {', '.join(allowed)}."
            headers["Allow"] = ", ".join(allowed)
    if status == 400:
        # The body could not be read as the content type it claims (bad JSON, bad UTF-8).
        return problem_response(
            422,
            InvalidInput.title,
            f"The request body is not well-formed: {detail}",
            "malformed_body",
            request=request,
            field="body",
            errors=[FieldError(field="body", message=detail, code="malformed_body")],
        )
    code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
        status, "http_error"
    )
    return problem_response(
        status,
        HTTPStatus(status).phrase,
        detail,
        code,
        request=request,
        headers=headers or None,
    )


# What says the database cannot do it now, not that the request or the code is wrong,
# by SQLSTATE (psycopg's classes do not nest by it): a connection lost or refused (class
# 08, and psycopg's own errors, which carry none), a transaction rolled back (40:
# deadlock, serialization failure), resources short (53: too many connections, out of
# memory, disk full), a server shutting down or starting (57, with a statement cancelled
# by its timeout), a lock not granted (55P03). Every other OperationalError (a savepoint
# misused, an object not in the state the code expected, …) is a bug: a 500, logged
# with its traceback.
_TRANSIENT_CLASSES = frozenset({"08", "40", "53", "57"})


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot do it now (try again later), rather than
    that the request or the code is wrong."""
    if not isinstance(exc, psycopg.OperationalError):
        return False
    state = exc.sqlstate
    return state is None or state[:2] in _TRANSIENT_CLASSES or state == "55P03"


async def _on_operational_error(request: Request, exc: Exception) -> JSONResponse:
    if database_unavailable(exc):
        return await _on_database_busy(request, exc)
    return await _on_unexpected(request, exc)


async def _on_database_busy(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database busy: %s: %s", type(exc).__name__, _first_line(exc))
    return problem_response(
        503,
        Unavailable.title,
        "The service is busy; try again in a moment.",
        "busy",
        request=request,
        headers={"Retry-After": "2"},
    )


async def _on_data_error(request: Request, exc: Exception) -> JSONResponse:
    # SQLSTATE class 22 (data exception): a value PostgreSQL cannot store or compare,
    # such as a NUL character or an out-of-range number that got past validation.
    log.info("data exception: %s", type(exc).__name__)
    return problem_response(
        422,
        InvalidInput.title,
        "A value in the request cannot be stored.",
        "invalid_input",
        request=request,
    )


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0]


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", extra={"request_id": getattr(request.state, "request_id", "")})
    return problem_response(
        500, "Internal server error", "Something went wrong.", "internal", request=request
    )


def install_error_handlers(app: FastAPI) -> None:
    """Render every error the app can raise as problem+json."""
    app.add_exception_handler(TicketdeskError, _on_ticketdesk_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    # The database cannot do it now: no connection free in time, or _TRANSIENT_CLASSES.
    # Nothing was half-stored, and the same request may well succeed in a moment.
    app.add_exception_handler(PoolTimeout, _on_database_busy)
    app.add_exception_handler(psycopg.OperationalError, _on_operational_error)
    # A value beyond what PostgreSQL can store (54xxx is an OperationalError too): the
    # request's, retrying it cannot help.
    for data_error in (psycopg.DataError, psycopg.errors.ProgramLimitExceeded):
        app.add_exception_handler(data_error, _on_data_error)
    app.add_exception_handler(Exception, _on_unexpected)


def problem_responses(*errors: type[TicketdeskError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the errors an endpoint may end with."""
    return {
        err.status: {
            "model": Problem,
            "description": err.title,
            **({"headers": err.response_headers} if err.response_headers else {}),
        }
        for err in errors
    }
