"""A fake GitHub REST API: a real HTTP server that keeps issues and comments in memory.

Every request it receives and every response it gives is checked against GitHub's own
description of these operations (tests/fixtures/github/rest-issues-openapi.json);
mismatches land in ``FakeGitHub.validation_errors``. The one deliberate deviation:
``state_reason: null`` is accepted in issue responses, as real GitHub sends it although
the description's enum leaves null out. Statuses an operation does not declare (401,
429, injected 5xx, ...) are checked against the ``basic-error`` schema instead.
"""

import asyncio
import base64
import json
import math
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import quote

import uvicorn
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_schema_validator import OAS30Validator
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.mailservers import free_port

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "github"
DEFAULT_TOKEN = "ghp_ticketdeskFakeToken000000000000000000"
DEFAULT_ACTOR = "octocat"
WEB_URL = "https://github.com"
REST_DOCS = "https://docs.github.com/rest"
RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
HOURLY_LIMIT = 5000

JSON = dict[str, Any]
_Handler = Callable[[Mapping[str, str], Mapping[str, str], Any], Response]


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received, and the status it answered with."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    status: int


@dataclass(frozen=True)
class ValidationFailure:
    """A request or response that does not match GitHub's OpenAPI description."""

    direction: Literal["request", "response"]
    method: str
    path: str
    detail: str


@dataclass(frozen=True)
class _Contract:
    document: JSON
    openapi: OpenAPI
    basic_error: OAS30Validator


@dataclass(frozen=True)
class _Operation:
    method: str
    template: str
    handler: _Handler


@dataclass
class _SpecRequest:
    method: str
    path: str
    path_pattern: str
    parameters: RequestParameters
    content_type: str
    body: bytes | None
    host_url: str = "https://api.github.com"


@dataclass(frozen=True)
class _Call:
    operation: _Operation | None
    request: _SpecRequest
    payload: Any
    json_error: str | None


@dataclass(frozen=True)
class _SpecResponse:
    status_code: int
    content_type: str
    headers: Mapping[str, str]
    data: bytes


@dataclass
class _Repository:
    owner: str
    name: str
    id: int
    issues: dict[int, JSON] = field(default_factory=dict)
    comments: dict[int, JSON] = field(default_factory=dict)
    labels: dict[str, JSON] = field(default_factory=dict)


class _NotFoundError(LookupError):
    """The addressed issue or comment does not exist."""


@cache
def _contract() -> _Contract:
    """Load the OpenAPI description once, allowing null in issue.state_reason."""
    document = json.loads((FIXTURES / "rest-issues-openapi.json").read_text())
    issue = document["components"]["schemas"]["issue"]
    issue["properties"]["state_reason"]["enum"].append(None)
    basic_error = OAS30Validator(document["components"]["schemas"]["basic-error"])
    return _Contract(document, OpenAPI.from_dict(document), basic_error)


@cache
def _example_text(name: str) -> str:
    """Read one official example body from rest-examples/examples/."""
    return (FIXTURES / "rest-examples" / "examples" / f"{name}.json").read_text()


def _example(name: str) -> JSON:
    """Return a fresh copy of an official example body."""
    example: JSON = json.loads(_example_text(name))
    return example


def _copy(obj: JSON) -> JSON:
    """Return a deep copy of a JSON object, so callers cannot change the fake's state."""
    copied: JSON = json.loads(json.dumps(obj))
    return copied


def _now() -> str:
    """Return the current time the way GitHub writes timestamps."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _node_id(kind: str, object_id: int) -> str:
    """Return a legacy global node id, e.g. MDU6SXNzdWUx for issue 1."""
    return base64.b64encode(f"0{len(kind)}:{kind}{object_id}".encode()).decode()


def _json(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    """Return a JSON response with GitHub's content type."""
    return Response(
        json.dumps(payload).encode(),
        status_code=status,
        headers=dict(headers or {}),
        media_type="application/json; charset=utf-8",
    )


def _error(status: int, message: str, documentation_url: str = REST_DOCS) -> Response:
    """Return GitHub's error body shape."""
    body = {"message": message, "documentation_url": documentation_url, "status": str(status)}
    return _json(status, body)


def _describe(error: Exception) -> str:
    """Flatten an openapi-core error into one readable line."""
    cause = error.__cause__
    schema_errors = getattr(cause, "schema_errors", None)
    if schema_errors:
        return "; ".join(
            f"/{'/'.join(str(part) for part in e.absolute_path)}: {e.message}"
            for e in schema_errors
        )
    return f"{error!r}: {cause}" if cause else repr(error)


class FakeGitHub:
    """GitHub's issues REST API served from memory on 127.0.0.1, for any owner/repo."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, login: str = "ticketdesk-bot") -> None:
        """Accept `token` (Bearer or token scheme); writes through the API act as `login`."""
        self.token = token
        self.login = login
        self.port = free_port()
        self.requests: list[RecordedRequest] = []
        self.validation_errors: list[ValidationFailure] = []
        self._contract = _contract()
        self._lock = threading.Lock()
        self._repositories: dict[tuple[str, str], _Repository] = {}
        self._user_ids: dict[str, int] = {}
        self._last_id = 1000
        self._failures_left = 0
        self._failure_status = 503
        self._limited_until = 0.0
        self._limit_status = 403
        self._retry_after: int | None = None
        self._delay = 0.0
        self._answering = threading.Event()
        self._answering.set()
        self.held = 0
        self._used = 0
        self._window_reset = int(time.time()) + 3600
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._app = Starlette(routes=self._routes())

    @property
    def base_url(self) -> str:
        """The URL to give a client as its GitHub API base, with a trailing slash."""
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> Self:
        """Start serving."""
        self.up()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop serving."""
        self.down()

    def up(self) -> None:
        """Listen on the port again (state is kept across down/up)."""
        if self._server is not None:
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        config = uvicorn.Config(
            self._app,
            lifespan="off",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [listener]}, name="fake-github", daemon=True
        )
        thread.start()
        while not server.started:
            if not thread.is_alive():
                listener.close()
                raise RuntimeError("the fake GitHub server did not start")
            time.sleep(0.01)
        self._server, self._thread = server, thread

    def down(self) -> None:
        """Close the listening socket and open connections: clients get connection refused."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join()
        self._server = self._thread = None

    def fail_next(self, n: int = 1, status: int = 503) -> None:
        """Answer the next `n` requests with `status` and GitHub's error body, changing nothing."""
        with self._lock:
            self._failures_left, self._failure_status = n, status

    def rate_limit(
        self, reset_in_seconds: float, status: int = 403, retry_after: int | None = None
    ) -> None:
        """Refuse authenticated requests as rate limited until `reset_in_seconds` from now."""
        with self._lock:
            self._limited_until = time.time() + reset_in_seconds
            self._limit_status, self._retry_after = status, retry_after

    def delay(self, seconds: float) -> None:
        """Hold every response for `seconds` (after applying its change); 0 turns it off."""
        self._delay = seconds

    def hold(self) -> None:
        """Keep every request waiting, unanswered and not yet applied, until `release`.

        `held` counts the requests that arrived while held.
        """
        self._answering.clear()

    def release(self) -> None:
        """Answer the held requests and every later one."""
        self._answering.set()

    def create_issue(
        self,
        owner: str,
        repo: str,
        title: str,
        body: str | None = None,
        *,
        labels: Iterable[str] = (),
        user: str = DEFAULT_ACTOR,
    ) -> JSON:
        """Open an issue on GitHub's side, as `user`, and return it."""
        with self._lock:
            repository = self._repository(owner, repo)
            payload = {"title": title, "body": body, "labels": list(labels)}
            return _copy(self._new_issue(repository, payload, user))

    def close_issue(
        self,
        owner: str,
        repo: str,
        number: int,
        state_reason: str = "completed",
        *,
        user: str = DEFAULT_ACTOR,
    ) -> JSON:
        """Close an issue on GitHub's side, as `user`, and return it."""
        return self.edit_issue(
            owner, repo, number, {"state": "closed", "state_reason": state_reason}, user=user
        )

    def reopen_issue(
        self, owner: str, repo: str, number: int, *, user: str = DEFAULT_ACTOR
    ) -> JSON:
        """Reopen an issue on GitHub's side, as `user`, and return it."""
        return self.edit_issue(owner, repo, number, {"state": "open"}, user=user)

    def edit_issue(
        self,
        owner: str,
        repo: str,
        number: int,
        changes: Mapping[str, Any],
        *,
        user: str = DEFAULT_ACTOR,
    ) -> JSON:
        """Apply `changes` (an issues/update body) on GitHub's side and return the issue."""
        with self._lock:
            repository = self._repository(owner, repo)
            issue = self._issue(repository, number)
            return _copy(self._update_issue_fields(repository, issue, changes, user))

    def add_comment(
        self, owner: str, repo: str, number: int, body: str, *, user: str = DEFAULT_ACTOR
    ) -> JSON:
        """Comment on an issue on GitHub's side, as `user`, and return the comment."""
        with self._lock:
            repository = self._repository(owner, repo)
            issue = self._issue(repository, number)
            return _copy(self._new_comment(repository, issue, body, user))

    def issue(self, owner: str, repo: str, number: int) -> JSON:
        """Return an issue as GitHub holds it now."""
        with self._lock:
            return _copy(self._issue(self._repository(owner, repo), number))

    def issues(self, owner: str, repo: str) -> list[JSON]:
        """Return every issue of the repository as GitHub holds them now, by number."""
        with self._lock:
            repository = self._repository(owner, repo)
            return [_copy(repository.issues[n]) for n in sorted(repository.issues)]

    def comments(self, owner: str, repo: str, number: int) -> list[JSON]:
        """Return an issue's comments as GitHub holds them now, oldest first."""
        with self._lock:
            repository = self._repository(owner, repo)
            issue = self._issue(repository, number)
            return [_copy(comment) for comment in self._comments_of(repository, issue)]

    def _routes(self) -> list[Route]:
        """Map each operation in the description to its handler, then a GitHub-style 404."""
        operations = [
            _Operation("POST", "/repos/{owner}/{repo}/issues", self._handle_create_issue),
            # Before /issues/{issue_number}, which would otherwise take "comments" as a number.
            _Operation(
                "PATCH",
                "/repos/{owner}/{repo}/issues/comments/{comment_id}",
                self._handle_update_comment,
            ),
            _Operation(
                "DELETE",
                "/repos/{owner}/{repo}/issues/comments/{comment_id}",
                self._handle_delete_comment,
            ),
            _Operation(
                "GET", "/repos/{owner}/{repo}/issues/{issue_number}", self._handle_get_issue
            ),
            _Operation(
                "PATCH", "/repos/{owner}/{repo}/issues/{issue_number}", self._handle_update_issue
            ),
            _Operation(
                "GET",
                "/repos/{owner}/{repo}/issues/{issue_number}/comments",
                self._handle_list_comments,
            ),
            _Operation(
                "POST",
                "/repos/{owner}/{repo}/issues/{issue_number}/comments",
                self._handle_create_comment,
            ),
            _Operation("GET", "/repos/{owner}/{repo}", self._handle_get_repository),
        ]
        routes = [Route(op.template, self._endpoint(op), methods=[op.method]) for op in operations]
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        routes.append(Route("/{path:path}", self._endpoint(None), methods=methods))
        return routes

    def _endpoint(self, operation: _Operation | None) -> Callable[[Request], Awaitable[Response]]:
        """Bind an operation (None: no such operation) to the shared request pipeline."""

        async def endpoint(request: Request) -> Response:
            return await self._serve(request, operation)

        return endpoint

    async def _serve(self, request: Request, operation: _Operation | None) -> Response:
        """Answer one request: misbehave if told to, authenticate, validate, apply, record."""
        if not self._answering.is_set():
            with self._lock:
                self.held += 1
            await asyncio.to_thread(self._answering.wait)
        body = await request.body()
        try:
            payload, json_error = (json.loads(body) if body else None), None
        except ValueError as exc:
            payload, json_error = None, str(exc)
        call = _Call(
            operation=operation,
            request=_SpecRequest(
                method=request.method.lower(),
                path=request.url.path,
                path_pattern=operation.template if operation else request.url.path,
                parameters=RequestParameters(
                    query=request.query_params,
                    header=request.headers,
                    cookie=request.cookies,
                    path=dict(request.path_params),
                ),
                content_type=request.headers.get("content-type", "application/octet-stream"),
                body=body or None,
            ),
            payload=payload,
            json_error=json_error,
        )
        with self._lock:
            response = self._respond(call)
            self._add_standard_headers(call, response)
            self._check_response(call, response)
            self.requests.append(
                RecordedRequest(
                    method=request.method,
                    path=request.url.path,
                    query=dict(request.query_params),
                    json=payload,
                    headers=dict(request.headers),
                    status=response.status_code,
                )
            )
        if self._delay:
            await asyncio.sleep(self._delay)
        return response

    def _respond(self, call: _Call) -> Response:
        """Produce the response, before standard headers and validation."""
        if self._failures_left:
            self._failures_left -= 1
            return _error(self._failure_status, HTTPStatus(self._failure_status).phrase)
        authorization = call.request.parameters.header.get("authorization")
        if authorization is None:
            return _error(401, "Requires authentication")
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() not in ("bearer", "token") or credential != self.token:
            return _error(401, "Bad credentials")
        if time.time() < self._limited_until:
            return self._rate_limited()
        self._used += 1
        if call.operation is None:
            self._fail(call, "request", "no such operation in rest-issues-openapi.json")
            return _error(404, "Not Found")
        docs = self._operation_spec(call.operation)["externalDocs"]["url"]
        if call.json_error is not None:
            self._fail(call, "request", f"body is not JSON: {call.json_error}")
            return _error(400, "Problems parsing JSON", docs)
        problems = [_describe(e) for e in self._contract.openapi.iter_request_errors(call.request)]
        if problems:
            for problem in problems:
                self._fail(call, "request", problem)
            return _error(422, "Invalid request.\n\n" + "\n".join(problems), docs)
        try:
            path, query = call.request.parameters.path, call.request.parameters.query
            return call.operation.handler(path, query, call.payload)
        except _NotFoundError:
            return _error(404, "Not Found", docs)

    def _rate_limited(self) -> Response:
        """GitHub's answer to a request over the rate limit."""
        request_id = secrets.token_hex(8).upper()
        message = (
            f"API rate limit exceeded for user ID {self._user_id(self.login)}. If you reach out"
            f" to GitHub Support for help, please include the request ID {request_id}"
            f" and timestamp {_now()}."
        )
        response = _error(self._limit_status, message, RATE_LIMIT_DOCS)
        response.headers.update(
            {
                "X-RateLimit-Limit": str(HOURLY_LIMIT),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(math.ceil(self._limited_until)),
                "X-RateLimit-Used": str(HOURLY_LIMIT),
                "X-RateLimit-Resource": "core",
                "X-GitHub-Request-Id": request_id,
            }
        )
        if self._retry_after is not None:
            response.headers["Retry-After"] = str(self._retry_after)
        return response

    def _add_standard_headers(self, call: _Call, response: Response) -> None:
        """Add the headers GitHub puts on every response, unless already set."""
        standard = {
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Api-Version-Selected": call.request.parameters.header.get(
                "x-github-api-version", "2022-11-28"
            ),
            "X-GitHub-Request-Id": secrets.token_hex(8).upper(),
            "X-RateLimit-Limit": str(HOURLY_LIMIT),
            "X-RateLimit-Remaining": str(max(HOURLY_LIMIT - self._used, 0)),
            "X-RateLimit-Reset": str(self._window_reset),
            "X-RateLimit-Used": str(self._used),
            "X-RateLimit-Resource": "core",
        }
        for name, value in standard.items():
            if name not in response.headers:
                response.headers[name] = value

    def _check_response(self, call: _Call, response: Response) -> None:
        """Record how `response` departs from the description, if it does."""
        status = str(response.status_code)
        if call.operation and status in self._operation_spec(call.operation)["responses"]:
            spec_response = _SpecResponse(
                status_code=response.status_code,
                content_type=response.headers.get("content-type", ""),
                headers=response.headers,
                data=bytes(response.body),
            )
            errors = self._contract.openapi.iter_response_errors(call.request, spec_response)
            problems = [_describe(e) for e in errors]
        else:
            body = json.loads(bytes(response.body))
            problems = [e.message for e in self._contract.basic_error.iter_errors(body)]
        for problem in problems:
            self._fail(call, "response", f"{status}: {problem}")

    def _fail(self, call: _Call, direction: Literal["request", "response"], detail: str) -> None:
        """Record one validation failure."""
        request = call.request
        failure = ValidationFailure(direction, request.method.upper(), request.path, detail)
        self.validation_errors.append(failure)

    def _operation_spec(self, operation: _Operation) -> JSON:
        """Return the description's entry for `operation`."""
        paths = self._contract.document["paths"]
        entry: JSON = paths[operation.template][operation.method.lower()]
        return entry

    def _handle_create_issue(
        self, path: Mapping[str, str], query: Mapping[str, str], payload: Any
    ) -> Response:
        """POST /repos/{owner}/{repo}/issues."""
        repository = self._repository(path["owner"], path["repo"])
        issue = self._new_issue(repository, payload, self.login)
        return _json(201, issue, {"Location": issue["url"]})

    def _handle_get_issue(
        self, path: Mapping[str, str], query: Mapping[str, str], payload: Any
    ) -> Response:
        """GET /repos/{owner}/{repo}/issues/{issue_number}."""
        repository = self._repository(path["owner"], path["repo"])
        return _json(200, self._issue(repository, int(path["issue_number"])))

    def _handle_update_issue(
        self, path: Mapping[str, str], query: Mapping[str, str], payload: Any
    ) -> Response:
        """PATCH /repos/{owner}/{repo}/issues/{issue_number}."""
        repository = self._repository(path["owner"], path["repo"])
        issue = self._issue(repository, int(path["issue_number"]))
        return _json(200, self._update_issue_fields(repository, issue, payload or {}, self.login))

    def _handle_list_comments(
        self, path: Mapping[str, str], query: Mapping[str, str], payload: Any
    ) -> Response:
        """GET /repos/{owner}/{repo}/issues/{issue_number}/comments, paginated with Link."""
        repository = self._repository(path["owner"], path["repo"])
        issue = self._issue(repository, int(path["issue_number"]))
        comments = self._comments_of(repository, issue)
        if "since" in query:
            since = datetime.fromisoformat(query["since"])
            comments = [c for c in comments if datetime.fromisoformat(c["updated_at"]) >= since]
        per_page = min(max(int(query.get("per_page", 30)), 1), 100)
        page = max(int(query.get("page", 1)), 1)
        last = max(math.ceil(len(comments) / per_page), 1)
        url = f"{issue['comments_url']}?per_page={per_page}&page="
        links = []
        if page < last:
            links += [f'<{url}{page + 1}>; rel="next"', f'<{url}{last}>; rel="last"']
        if page > 1:
            links += [f'<{url}{page - 1}>; rel="prev"', f'<{url}1>; rel="first"']
        headers = {"Link": ", ".join(links)} if links else {}
        return _json(200, comments[(page - 1) * per_page : page * per_page], headers)

    def _handle_create_comment(
        self, path: Mapping[str, str], query: Mapping[str, str], payload: Any
    ) -> Response:
        """POST /repos/{owner}/{repo}/issues/{issue_number}/comments."""
        repository = self._repository(path["owner"], path["repo"])
        issue = self._issue(repository, int(path["issue_number"]))
        comment = self._new_comment(repository, issue, payload["body"], self.login)
        return _json(201, comment, {"Location": comment["url"]})

    def _handle_update_comment(
        self, path: Mapping[str, str], query: Mapping[str, str], payload: Any
    ) -> Response:
        """PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}."""
        repository = self._repository(path["owner"], path["repo"])
        comment = self._comment(repository, int(path["comment_id"]))
        comment.update(body=payload["body"], updated_at=_now())
        return _json(200, comment)

    def _handle_delete_comment(
        self, path: Mapping[str, str], query: Mapping[str, str], payload: Any
    ) -> Response:
        """DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}."""
        repository = self._repository(path["owner"], path["repo"])
        comment_id = int(path["comment_id"])
        issue_url = self._comment(repository, comment_id)["issue_url"]
        del repository.comments[comment_id]
        for issue in repository.issues.values():
            if issue["url"] == issue_url:
                issue["comments"] -= 1
        return Response(status_code=204)

    def _handle_get_repository(
        self, path: Mapping[str, str], query: Mapping[str, str], payload: Any
    ) -> Response:
        """GET /repos/{owner}/{repo}."""
        repository = self._repository(path["owner"], path["repo"])
        full_name = json.dumps(f"{repository.owner}/{repository.name}")[1:-1]
        body: JSON = json.loads(
            _example_text("full-repository-default-response").replace(
                "octocat/Hello-World", full_name
            )
        )
        # A plain repository: not a fork, not from a template, not in an organisation.
        for key in ("parent", "source", "template_repository", "organization"):
            del body[key]
        open_issues = sum(issue["state"] == "open" for issue in repository.issues.values())
        body.update(
            id=repository.id,
            node_id=_node_id("Repository", repository.id),
            name=repository.name,
            owner=self._user(repository.owner),
            url=self._api_url(f"repos/{repository.owner}/{repository.name}"),
            language=None,
            mirror_url=None,
            open_issues=open_issues,
            open_issues_count=open_issues,
        )
        return _json(200, body)

    def _api_url(self, path: str) -> str:
        """Return an API URL on this server, as GitHub Enterprise would write it."""
        return f"{self.base_url}{path}"

    def _new_id(self) -> int:
        """Return the next object id; issue ids never equal issue numbers."""
        self._last_id += 1
        return self._last_id

    def _user_id(self, login: str) -> int:
        """Return a stable id for `login`."""
        return self._user_ids.setdefault(login, len(self._user_ids) + 1)

    def _user(self, login: str) -> JSON:
        """Return a simple-user object for `login` (a Bot when it ends in [bot])."""
        user_id = self._user_id(login)
        template = _example("issue-comment")["user"]
        user = {
            k: v.replace("octocat", login) if isinstance(v, str) else v for k, v in template.items()
        }
        user.update(
            id=user_id,
            node_id=_node_id("User", user_id),
            avatar_url=f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
            type="Bot" if login.endswith("[bot]") else "User",
        )
        return user

    def _repository(self, owner: str, name: str) -> _Repository:
        """Return the repository, creating it on first use (names are case-insensitive)."""
        key = (owner.lower(), name.lower())
        if key not in self._repositories:
            self._repositories[key] = _Repository(owner, name, self._new_id())
        return self._repositories[key]

    def _issue(self, repository: _Repository, number: int) -> JSON:
        """Return the stored issue or raise _NotFoundError."""
        if number not in repository.issues:
            raise _NotFoundError
        return repository.issues[number]

    def _comment(self, repository: _Repository, comment_id: int) -> JSON:
        """Return the stored comment or raise _NotFoundError."""
        if comment_id not in repository.comments:
            raise _NotFoundError
        return repository.comments[comment_id]

    def _comments_of(self, repository: _Repository, issue: JSON) -> list[JSON]:
        """Return the issue's comments, oldest first."""
        return [c for c in repository.comments.values() if c["issue_url"] == issue["url"]]

    def _author_association(self, repository: _Repository, login: str) -> str:
        """Return OWNER for the repository owner, COLLABORATOR for anyone else."""
        return "OWNER" if login.lower() == repository.owner.lower() else "COLLABORATOR"

    def _labels(self, repository: _Repository, names: Iterable[str | JSON]) -> list[JSON]:
        """Return label objects for `names`, creating missing labels as GitHub does."""
        labels = []
        for item in names:
            name = item if isinstance(item, str) else item["name"]
            if name.lower() not in repository.labels:
                label_id = self._new_id()
                repository.labels[name.lower()] = {
                    "id": label_id,
                    "node_id": _node_id("Label", label_id),
                    "url": self._api_url(
                        f"repos/{repository.owner}/{repository.name}/labels/{quote(name)}"
                    ),
                    "name": name,
                    "description": None,
                    "color": "ededed",
                    "default": False,
                }
            labels.append(repository.labels[name.lower()])
        return labels

    def _new_issue(self, repository: _Repository, payload: Mapping[str, Any], login: str) -> JSON:
        """Store a new open issue built from an issues/create body."""
        issue_id, number = self._new_id(), len(repository.issues) + 1
        path = f"repos/{repository.owner}/{repository.name}/issues/{number}"
        now = _now()
        issue = _example("issue")
        del issue["pull_request"]  # the example is a pull request's issue; this one is not
        issue.update(
            id=issue_id,
            node_id=_node_id("Issue", issue_id),
            url=self._api_url(path),
            repository_url=self._api_url(f"repos/{repository.owner}/{repository.name}"),
            labels_url=self._api_url(f"{path}/labels{{/name}}"),
            comments_url=self._api_url(f"{path}/comments"),
            events_url=self._api_url(f"{path}/events"),
            timeline_url=self._api_url(f"{path}/timeline"),
            html_url=f"{WEB_URL}/{repository.owner}/{repository.name}/issues/{number}",
            number=number,
            state="open",
            state_reason=None,
            title=str(payload["title"]),
            body=payload.get("body"),
            user=self._user(login),
            labels=[],
            assignee=None,
            assignees=[],
            milestone=None,
            locked=False,
            active_lock_reason=None,
            comments=0,
            created_at=now,
            updated_at=now,
            closed_at=None,
            closed_by=None,
            author_association=self._author_association(repository, login),
            performed_via_github_app=None,
            reactions={
                "url": self._api_url(f"{path}/reactions"),
                "total_count": 0,
                **dict.fromkeys(
                    ["+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"], 0
                ),
            },
        )
        repository.issues[number] = issue
        fields = {k: payload[k] for k in ("labels", "assignees", "assignee") if k in payload}
        return self._update_issue_fields(repository, issue, fields, login, touch=False)

    def _update_issue_fields(
        self,
        repository: _Repository,
        issue: JSON,
        changes: Mapping[str, Any],
        login: str,
        *,
        touch: bool = True,
    ) -> JSON:
        """Apply an issues/update body the way GitHub does; milestone and type are dropped."""
        now = _now()
        if changes.get("title") is not None:
            issue["title"] = str(changes["title"])
        if "body" in changes:
            issue["body"] = changes["body"]
        if changes.get("labels") is not None:
            issue["labels"] = self._labels(repository, changes["labels"])
        if "assignee" in changes:
            assignee = changes["assignee"]
            issue["assignees"] = [self._user(assignee)] if assignee else []
        if changes.get("assignees") is not None:
            issue["assignees"] = [self._user(login) for login in changes["assignees"]]
        issue["assignee"] = issue["assignees"][0] if issue["assignees"] else None
        state = changes.get("state")
        if state == "closed" and issue["state"] == "open":
            issue.update(
                state="closed",
                state_reason=changes.get("state_reason") or "completed",
                closed_at=now,
                closed_by=self._user(login),
            )
        elif state == "open" and issue["state"] == "closed":
            issue.update(state="open", state_reason="reopened", closed_at=None, closed_by=None)
        if touch:
            issue["updated_at"] = now
        return issue

    def _new_comment(self, repository: _Repository, issue: JSON, body: str, login: str) -> JSON:
        """Store a new comment on `issue`."""
        comment_id = self._new_id()
        now = _now()
        comment = _example("issue-comment")
        comment.update(
            id=comment_id,
            node_id=_node_id("IssueComment", comment_id),
            url=self._api_url(
                f"repos/{repository.owner}/{repository.name}/issues/comments/{comment_id}"
            ),
            html_url=f"{issue['html_url']}#issuecomment-{comment_id}",
            issue_url=issue["url"],
            body=body,
            user=self._user(login),
            created_at=now,
            updated_at=now,
            author_association=self._author_association(repository, login),
        )
        repository.comments[comment_id] = comment
        issue["comments"] += 1
        return comment
