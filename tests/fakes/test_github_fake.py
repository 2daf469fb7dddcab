"""Tests of the fake GitHub: operations round-trip through githubkit; misbehaviour is GitHub's."""

import asyncio
import hashlib
import hmac
import json
import time
from datetime import timedelta
from typing import Any, cast

import httpx
import pytest
from githubkit import GitHub, Response, TokenAuthStrategy
from githubkit.exception import (
    PrimaryRateLimitExceeded,
    RequestError,
    RequestFailed,
    RequestTimeout,
    SecondaryRateLimitExceeded,
)
from githubkit_schemas.latest.models import IssueComment

from tests.fakes.github import DEFAULT_TOKEN, FIXTURES, FakeGitHub

OWNER, REPO = "acme", "widgets"


def client(
    gh: FakeGitHub, token: str = DEFAULT_TOKEN, timeout: float = 5
) -> GitHub[TokenAuthStrategy]:
    """A githubkit client set up as ticketdesk's worker should be: no retries, no cache."""
    return GitHub(token, base_url=gh.base_url, auto_retry=False, http_cache=False, timeout=timeout)


def comments_in(response: Response[Any, Any]) -> list[IssueComment]:
    """Return the comments of a list-comments response, typed."""
    # mypy reads githubkit's annotation as `list?`: the issues client has a method named list.
    return cast("list[IssueComment]", response.parsed_data)


@pytest.fixture
def github(gh: FakeGitHub) -> GitHub[TokenAuthStrategy]:
    """A githubkit client pointed at the fake."""
    # Hold the client: githubkit's namespaces keep only a weak reference to it.
    return client(gh)


def auth(token: str = DEFAULT_TOKEN, scheme: str = "Bearer") -> dict[str, str]:
    """Headers for a raw httpx request to the fake."""
    return {"Authorization": f"{scheme} {token}"}


class TestIssues:
    async def test_create_get_close_reopen(
        self, gh: FakeGitHub, github: GitHub[TokenAuthStrategy]
    ) -> None:
        created = await github.rest.issues.async_create(
            OWNER, REPO, title="Login fails", body="Steps...", labels=["ticketdesk"]
        )
        issue = created.parsed_data
        fetched = (await github.rest.issues.async_get(OWNER, REPO, issue.number)).parsed_data
        closed = await github.rest.issues.async_update(OWNER, REPO, issue.number, state="closed")
        reopened = await github.rest.issues.async_update(OWNER, REPO, issue.number, state="open")

        assert created.status_code == 201
        assert created.headers["location"] == issue.url
        assert (issue.number, issue.state, issue.state_reason) == (1, "open", None)
        assert issue.id != issue.number
        assert issue.html_url == f"https://github.com/{OWNER}/{REPO}/issues/1"
        assert [label.name for label in issue.labels if not isinstance(label, str)] == [
            "ticketdesk"
        ]
        assert issue.user is not None
        assert issue.user.login == gh.login
        assert (fetched.title, fetched.body) == ("Login fails", "Steps...")
        assert (closed.parsed_data.state, closed.parsed_data.state_reason) == (
            "closed",
            "completed",
        )
        assert closed.parsed_data.closed_at is not None
        assert (reopened.parsed_data.state, reopened.parsed_data.state_reason) == (
            "open",
            "reopened",
        )
        assert gh.validation_errors == []

    async def test_requests_are_recorded(
        self, gh: FakeGitHub, github: GitHub[TokenAuthStrategy]
    ) -> None:
        await github.rest.issues.async_create(OWNER, REPO, title="Recorded")

        [request] = gh.requests
        assert (request.method, request.path, request.status) == (
            "POST",
            f"/repos/{OWNER}/{REPO}/issues",
            201,
        )
        assert request.json == {"title": "Recorded"}
        assert request.headers["authorization"] == f"token {DEFAULT_TOKEN}"

    async def test_missing_issue(self, gh: FakeGitHub, github: GitHub[TokenAuthStrategy]) -> None:
        with pytest.raises(RequestFailed) as failed:
            await github.rest.issues.async_get(OWNER, REPO, 404)

        assert failed.value.response.status_code == 404
        assert failed.value.response.json()["message"] == "Not Found"
        assert gh.validation_errors == []


class TestComments:
    async def test_create_list_update_delete(
        self, gh: FakeGitHub, github: GitHub[TokenAuthStrategy]
    ) -> None:
        gh.create_issue(OWNER, REPO, "Has comments")

        created = await github.rest.issues.async_create_comment(OWNER, REPO, 1, body="First")
        comment = created.parsed_data
        updated = await github.rest.issues.async_update_comment(
            OWNER, REPO, comment.id, body="First, edited"
        )
        listed = await github.rest.issues.async_list_comments(OWNER, REPO, 1)
        deleted = await github.rest.issues.async_delete_comment(OWNER, REPO, comment.id)
        after = await github.rest.issues.async_list_comments(OWNER, REPO, 1)

        assert created.status_code == 201
        assert (
            comment.html_url
            == f"https://github.com/{OWNER}/{REPO}/issues/1#issuecomment-{comment.id}"
        )
        assert updated.parsed_data.body == "First, edited"
        assert [c.body for c in comments_in(listed)] == ["First, edited"]
        assert deleted.status_code == 204
        assert comments_in(after) == []
        assert gh.issue(OWNER, REPO, 1)["comments"] == 0
        assert gh.validation_errors == []

    async def test_list_is_paginated(
        self, gh: FakeGitHub, github: GitHub[TokenAuthStrategy]
    ) -> None:
        gh.create_issue(OWNER, REPO, "Busy")
        for n in range(3):
            gh.add_comment(OWNER, REPO, 1, f"comment {n}")

        page_1 = await github.rest.issues.async_list_comments(OWNER, REPO, 1, per_page=2)
        page_2 = await github.rest.issues.async_list_comments(OWNER, REPO, 1, per_page=2, page=2)

        assert [c.body for c in comments_in(page_1)] == ["comment 0", "comment 1"]
        assert 'rel="next"' in page_1.headers["link"]
        assert [c.body for c in comments_in(page_2)] == ["comment 2"]
        assert gh.validation_errors == []


class TestRepository:
    async def test_get_with_githubkit_defaults(self, gh: FakeGitHub) -> None:
        github = GitHub(DEFAULT_TOKEN, base_url=gh.base_url)  # hishel cache and retries on

        repository = (await github.rest.repos.async_get(OWNER, REPO)).parsed_data

        assert repository.full_name == f"{OWNER}/{REPO}"
        assert repository.owner.login == OWNER
        assert gh.validation_errors == []


class TestAuthentication:
    async def test_wrong_token(self, gh: FakeGitHub) -> None:
        stranger = client(gh, token="ghp_wrong")

        with pytest.raises(RequestFailed) as failed:
            await stranger.rest.repos.async_get(OWNER, REPO)

        assert failed.value.response.status_code == 401
        assert failed.value.response.json()["message"] == "Bad credentials"
        assert gh.validation_errors == []

    def test_missing_token(self, gh: FakeGitHub) -> None:
        response = httpx.get(f"{gh.base_url}repos/{OWNER}/{REPO}")

        assert response.status_code == 401
        assert response.json()["message"] == "Requires authentication"

    def test_bearer_scheme(self, gh: FakeGitHub) -> None:
        response = httpx.get(f"{gh.base_url}repos/{OWNER}/{REPO}", headers=auth())

        assert response.status_code == 200


class TestValidation:
    def test_malformed_request_is_refused_and_recorded(self, gh: FakeGitHub) -> None:
        response = httpx.post(
            f"{gh.base_url}repos/{OWNER}/{REPO}/issues", json={"body": "no title"}, headers=auth()
        )

        assert response.status_code == 422
        assert response.json()["message"].startswith("Invalid request.")
        assert response.json()["documentation_url"].startswith("https://docs.github.com/rest/")
        [failure] = gh.validation_errors
        assert (failure.direction, failure.method) == ("request", "POST")
        assert "title" in failure.detail
        with pytest.raises(LookupError):
            gh.issue(OWNER, REPO, 1)

    def test_unknown_operation_is_recorded(self, gh: FakeGitHub) -> None:
        response = httpx.get(f"{gh.base_url}user", headers=auth())

        assert response.status_code == 404
        assert [(f.direction, f.path) for f in gh.validation_errors] == [("request", "/user")]

    def test_invalid_response_is_recorded(self, gh: FakeGitHub) -> None:
        gh.create_issue(OWNER, REPO, "Corrupted")
        gh.edit_issue(OWNER, REPO, 1, {"body": 5})

        httpx.get(f"{gh.base_url}repos/{OWNER}/{REPO}/issues/1", headers=auth())

        [failure] = gh.validation_errors
        assert failure.direction == "response"
        assert "/body" in failure.detail


class TestMisbehaviour:
    async def test_fail_next(self, gh: FakeGitHub, github: GitHub[TokenAuthStrategy]) -> None:
        gh.fail_next(2, status=503)

        for _ in range(2):
            with pytest.raises(RequestFailed) as failed:
                await github.rest.issues.async_create(OWNER, REPO, title="Retried")
            assert failed.value.response.status_code == 503
        issue = (await github.rest.issues.async_create(OWNER, REPO, title="Retried")).parsed_data

        assert issue.number == 1
        assert gh.validation_errors == []

    async def test_primary_rate_limit(
        self, gh: FakeGitHub, github: GitHub[TokenAuthStrategy]
    ) -> None:
        gh.rate_limit(60)

        with pytest.raises(PrimaryRateLimitExceeded) as limited:
            await github.rest.issues.async_create(OWNER, REPO, title="Limited")

        headers = limited.value.response.headers
        assert limited.value.response.status_code == 403
        assert headers["x-ratelimit-remaining"] == "0"
        assert 55 <= int(headers["x-ratelimit-reset"]) - time.time() <= 61
        assert "retry-after" not in headers
        assert timedelta(seconds=55) <= limited.value.retry_after <= timedelta(seconds=61)
        assert limited.value.response.json()["message"].startswith("API rate limit exceeded")
        assert gh.validation_errors == []

    async def test_secondary_rate_limit(
        self, gh: FakeGitHub, github: GitHub[TokenAuthStrategy]
    ) -> None:
        gh.rate_limit(60, status=429, retry_after=30)

        with pytest.raises(SecondaryRateLimitExceeded) as limited:
            await github.rest.issues.async_get(OWNER, REPO, 1)

        assert limited.value.response.status_code == 429
        assert limited.value.response.headers["retry-after"] == "30"
        assert limited.value.retry_after == timedelta(seconds=30)
        assert gh.validation_errors == []

    async def test_rate_limit_lifts_at_reset(
        self, gh: FakeGitHub, github: GitHub[TokenAuthStrategy]
    ) -> None:
        gh.rate_limit(0.3)
        with pytest.raises(PrimaryRateLimitExceeded):
            await github.rest.repos.async_get(OWNER, REPO)

        await asyncio.sleep(0.4)

        assert (await github.rest.repos.async_get(OWNER, REPO)).status_code == 200

    async def test_normal_responses_carry_rate_limit_headers(
        self, gh: FakeGitHub, github: GitHub[TokenAuthStrategy]
    ) -> None:
        response = await github.rest.repos.async_get(OWNER, REPO)

        assert response.headers["x-ratelimit-limit"] == "5000"
        assert response.headers["x-ratelimit-remaining"] == "4999"
        assert int(response.headers["x-ratelimit-reset"]) > time.time()

    async def test_delay_times_out_after_applying(self, gh: FakeGitHub) -> None:
        impatient = client(gh, timeout=0.2)
        gh.delay(1)

        with pytest.raises(RequestTimeout):
            await impatient.rest.issues.async_create(OWNER, REPO, title="Slow")

        assert gh.issue(OWNER, REPO, 1)["title"] == "Slow"

    async def test_down_then_up(self, gh: FakeGitHub, github: GitHub[TokenAuthStrategy]) -> None:
        gh.create_issue(OWNER, REPO, "Survives")
        gh.down()

        with pytest.raises(RequestError) as refused:
            await github.rest.issues.async_get(OWNER, REPO, 1)
        gh.up()
        issue = (await github.rest.issues.async_get(OWNER, REPO, 1)).parsed_data

        assert isinstance(refused.value.exc, httpx.ConnectError)
        assert issue.title == "Survives"


class TestEventsOnGitHub:
    async def test_close_issue(self, gh: FakeGitHub, github: GitHub[TokenAuthStrategy]) -> None:
        await github.rest.issues.async_create(OWNER, REPO, title="Closed elsewhere")

        returned = gh.close_issue(OWNER, REPO, 1, state_reason="not_planned")
        issue = (await github.rest.issues.async_get(OWNER, REPO, 1)).parsed_data

        assert returned["closed_by"]["login"] == "octocat"
        assert (issue.state, issue.state_reason) == ("closed", "not_planned")
        assert gh.validation_errors == []

    async def test_add_comment(self, gh: FakeGitHub, github: GitHub[TokenAuthStrategy]) -> None:
        await github.rest.issues.async_create(OWNER, REPO, title="Commented elsewhere")

        returned = gh.add_comment(OWNER, REPO, 1, "From GitHub")
        [listed] = comments_in(await github.rest.issues.async_list_comments(OWNER, REPO, 1))

        assert (listed.id, listed.body) == (returned["id"], "From GitHub")
        assert listed.user is not None
        assert listed.user.login == "octocat"
        assert gh.validation_errors == []


def test_signature_vector() -> None:
    vector = json.loads((FIXTURES / "signature-vector.json").read_text())

    digest = hmac.new(
        vector["secret"].encode(), vector["payload"].encode(), hashlib.sha256
    ).hexdigest()

    assert digest == vector["signature"]
    assert f"sha256={digest}" == vector["x_hub_signature_256"]
