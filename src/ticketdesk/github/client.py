"""The few GitHub REST calls ticketdesk makes, through githubkit, with errors it can act on.

Every failure becomes one of:

    GitHubError                  the message is safe to log, store and show
    ├── GitHubUnavailable        down, slow, 5xx: back off and retry
    ├── GitHubRateLimited        403/429 over the limit: retry when it lifts (``at``)
    └── GitHubRefused            4xx: retrying the same call cannot help
        └── GitHubNotFound       404: no such issue (or the token cannot see it)
            └── GitHubGone       410: the issue was deleted

The token goes into the Authorization header and nowhere else: messages are composed
here from the status and GitHub's own ``message``, and the library's exceptions (which
carry the request) are not chained onto ours.
"""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Literal, Self, cast

from githubkit import GitHub, TokenAuthStrategy
from githubkit.exception import RequestError, RequestFailed, RequestTimeout
from githubkit.response import Response

from ticketdesk.config import GitHubSettings
from ticketdesk.jobs.queue import GiveUp, RetryAt

# GitHub's advice when a limit is hit without saying until when: wait a minute.
DEFAULT_RATE_LIMIT_WAIT = timedelta(seconds=60)
PER_PAGE = 100


class GitHubError(Exception):
    """A GitHub call failed; the message names what happened and nothing secret."""


class GitHubUnavailable(GitHubError):
    """GitHub could not be reached, was too slow or failed on its side."""


class GitHubRateLimited(GitHubError, RetryAt):
    """GitHub refused the call until its rate limit lifts at ``at``."""


class GitHubRefused(GitHubError, GiveUp):
    """GitHub refused the call itself (bad token, no access, invalid request)."""


class GitHubNotFound(GitHubRefused):
    """The issue does not exist, or the token cannot see it."""


class GitHubGone(GitHubNotFound):
    """The issue existed and was deleted."""


@dataclass(frozen=True)
class Issue:
    """The parts of a GitHub issue ticketdesk uses."""

    number: int
    html_url: str
    title: str
    state: str
    body: str | None
    created_at: datetime


@dataclass(frozen=True)
class IssueComment:
    """The parts of a GitHub issue comment ticketdesk uses."""

    id: int
    body: str


def _issue(data: Any) -> Issue:
    return Issue(
        number=data.number,
        html_url=data.html_url,
        title=data.title,
        state=data.state,
        body=data.body,
        created_at=data.created_at,
    )


def _message(response: Response[Any]) -> str:
    try:
        body = response.raw_response.json()
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return f": {str(message)[:300]}" if message else ""


def rate_limit_lifts_at(headers: Any, now: datetime) -> datetime:
    """When a rate-limited call may be tried again: the later of Retry-After and the reset."""
    candidates = []
    try:
        if "retry-after" in headers:
            candidates.append(now + timedelta(seconds=int(headers["retry-after"])))
        if headers.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in headers:
            candidates.append(datetime.fromtimestamp(int(headers["x-ratelimit-reset"]), UTC))
    except ValueError:
        pass
    return max(candidates, default=now + DEFAULT_RATE_LIMIT_WAIT)


def _is_rate_limited(response: Response[Any]) -> bool:
    headers = response.headers
    return response.status_code == 429 or (
        response.status_code == 403
        and ("retry-after" in headers or headers.get("x-ratelimit-remaining") == "0")
    )


class GitHubClient:
    """One repository's issues and comments, as the configured token sees them."""

    def __init__(self, settings: GitHubSettings) -> None:
        assert settings.token is not None, "load_settings requires a token when enabled"
        self._timeout = settings.timeout_seconds
        self._stack = AsyncExitStack()
        self._github = GitHub(
            TokenAuthStrategy(settings.token.get_secret_value()),
            base_url=str(settings.api_url),
            user_agent="ticketdesk",
            timeout=settings.timeout_seconds,
            # Retries belong to the job queue, which waits without holding a worker.
            auto_retry=False,
            http_cache=False,
        )

    async def __aenter__(self) -> Self:
        """Open the HTTP connection pool."""
        await self._stack.enter_async_context(self._github)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the HTTP connection pool."""
        await self._stack.__aexit__(exc_type, exc, traceback)

    @asynccontextmanager
    async def _call(self, what: str) -> AsyncIterator[None]:
        """Translate the library's errors for ``what`` into ours, dropping their context."""
        try:
            yield
        except RequestFailed as exc:
            response = exc.response
            status = response.status_code
            detail = f"GitHub answered {status} to {what}{_message(response)}"
            if _is_rate_limited(response):
                at = rate_limit_lifts_at(response.headers, datetime.now(UTC))
                raise GitHubRateLimited(
                    f"GitHub's rate limit was hit ({what}); waiting until {at:%H:%M:%S} UTC",
                    at=at,
                ) from None
            if status == 410:
                raise GitHubGone(detail) from None
            if status == 404:
                raise GitHubNotFound(detail) from None
            if status == 401:
                raise GitHubRefused(
                    f"GitHub refused the token ({what}){_message(response)}"
                ) from None
            if 400 <= status < 500:
                raise GitHubRefused(detail) from None
            raise GitHubUnavailable(detail) from None
        except RequestTimeout:
            raise GitHubUnavailable(
                f"GitHub did not answer {what} within {self._timeout:g} s"
            ) from None
        except RequestError as exc:
            raise GitHubUnavailable(
                f"Could not reach GitHub for {what} ({type(exc.exc).__name__})"
            ) from None

    async def create_issue(
        self, owner: str, repo: str, *, title: str, body: str, labels: list[str]
    ) -> Issue:
        """Open an issue."""
        async with self._call("creating an issue"):
            response = await self._github.rest.issues.async_create(
                owner, repo, title=title, body=body, labels=labels
            )
        return _issue(response.parsed_data)

    async def get_issue(self, owner: str, repo: str, number: int) -> Issue:
        """One issue (or pull request) by number."""
        async with self._call(f"reading issue #{number}"):
            response = await self._github.rest.issues.async_get(owner, repo, number)
        return _issue(response.parsed_data)

    async def issue_exists(self, owner: str, repo: str, number: int) -> bool:
        """Whether GitHub has ever given out this issue number in the repository."""
        try:
            await self.get_issue(owner, repo, number)
        except GitHubGone:
            return True
        except GitHubNotFound:
            return False
        return True

    async def update_issue(
        self,
        owner: str,
        repo: str,
        number: int,
        *,
        title: str | None = None,
        state: Literal["open", "closed"] | None = None,
        state_reason: Literal["completed", "not_planned", "reopened"] | None = None,
    ) -> Issue:
        """Change an issue's title and/or state."""
        changes: dict[str, Any] = {}
        if title is not None:
            changes["title"] = title
        if state is not None:
            changes["state"] = state
        if state_reason is not None:
            changes["state_reason"] = state_reason
        async with self._call(f"updating issue #{number}"):
            response = await self._github.rest.issues.async_update(owner, repo, number, **changes)
        return _issue(response.parsed_data)

    async def create_comment(self, owner: str, repo: str, number: int, body: str) -> IssueComment:
        """Comment on an issue."""
        async with self._call(f"commenting on issue #{number}"):
            response = await self._github.rest.issues.async_create_comment(
                owner, repo, number, body=body
            )
        comment = response.parsed_data
        return IssueComment(id=comment.id, body=comment.body or "")

    async def list_comments(self, owner: str, repo: str, number: int) -> list[IssueComment]:
        """An issue's comments, oldest first.

        (No ``since`` filter: githubkit writes datetimes in query strings with a space
        instead of ISO 8601's "T", which GitHub's description does not accept.)
        """
        comments: list[IssueComment] = []
        page = 1
        while True:
            async with self._call(f"listing comments of issue #{number}"):
                response = await self._github.rest.issues.async_list_comments(
                    owner, repo, number, per_page=PER_PAGE, page=page
                )
            # cast: the generated annotation's "list" resolves to a method of that module.
            batch = cast(list[Any], response.parsed_data)
            comments += [IssueComment(id=c.id, body=c.body or "") for c in batch]
            if len(batch) < PER_PAGE:
                return comments
            page += 1
