"""End to end: the app with its in-process worker, real PostgreSQL, the fake GitHub."""

import asyncio
import copy
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import Accounts, ticket_body
from tests.fakes.github import FakeGitHub
from tests.github.support import (
    PAYLOAD_REPO,
    deliver,
    fixture_bytes,
    fixture_json,
    github_settings,
    outcome,
    sign,
)
from tests.jobs.waiting import eventually
from ticketdesk.app import create_app
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.github import service

OWNER, REPO = PAYLOAD_REPO.split("/")


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app as ``ticketdesk serve`` runs it: with a worker in-process."""
    application = create_app(settings, worker=True)
    async with application.router.lifespan_context(application):
        yield application


async def detail(client: AsyncClient, ticket_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/tickets/{ticket_id}")
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


async def queue_is_empty(conn: Connection) -> bool:
    cur = await conn.execute("select count(*) as n from procrastinate_jobs")
    row = await cur.fetchone()
    return row == {"n": 0}


def issue_or_none(gh: FakeGitHub, number: int) -> dict[str, Any] | None:
    try:
        return gh.issue(OWNER, REPO, number)
    except LookupError:
        return None


def comment_delivery(gh_comment: dict[str, Any]) -> dict[str, Any]:
    """An issue_comment "created" delivery about a comment as the fake holds it."""
    payload = fixture_json("issue_comment/created")
    payload["comment"] = gh_comment
    return payload


def closed_delivery(issue: dict[str, Any]) -> dict[str, Any]:
    """An issues "closed" delivery (octokit has no example of one) for the fake's issue."""
    payload = fixture_json("issues/reopened")
    payload["action"] = "closed"
    payload["issue"] = copy.deepcopy(issue)
    return payload


class TestRoundTrip:
    async def test_issue_comments_and_state_both_ways(
        self,
        accounts: Accounts,
        anon: AsyncClient,
        conn: Connection,
        gh: FakeGitHub,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.DEBUG)
        alice, agent = accounts.alice.client, accounts.agent.client
        responses: list[str] = []

        # A new ticket gets its issue.
        created = await alice.post("/api/v1/tickets", json=ticket_body())
        ticket_id = created.json()["id"]
        await eventually(lambda: _synced(agent, ticket_id), what="the issue to be created")
        issue = gh.issue(OWNER, REPO, 1)
        staff_view = await detail(agent, ticket_id)
        responses += [created.text, str(staff_view)]

        assert created.json()["github"] is None  # the submitter's own view
        assert staff_view["github_issue_number"] == 1
        assert staff_view["github"]["issue_url"] == issue["html_url"]
        assert [label["name"] for label in issue["labels"]] == ["ticketdesk"]
        assert service.ticket_id_in_issue(issue["body"]) is not None
        assert accounts.alice.user.email not in issue["body"]
        assert (await detail(alice, ticket_id))["github"] is None

        # A public reply is mirrored, an internal note is not.
        reply = await agent.post(
            f"/api/v1/tickets/{ticket_id}/comments", json={"comment": "Fixed on main."}
        )
        await agent.post(
            f"/api/v1/tickets/{ticket_id}/comments",
            json={"comment": "Internal: customer is on the old plan.", "is_internal": True},
        )
        await eventually(lambda: queue_is_empty(conn), what="the reply to be mirrored")
        [mirrored] = gh.comments(OWNER, REPO, 1)

        assert reply.status_code == 201
        assert "Fixed on main." in mirrored["body"]
        assert "old plan" not in str(gh.requests)

        # The mirrored reply comes back through the webhook and is not copied again;
        # a GitHub user's comment (GitHub's own payload, byte for byte) is.
        echo = await deliver(anon, "issue_comment", comment_delivery(mirrored))
        from_github = await deliver(anon, "issue_comment", fixture_bytes("issue_comment/created"))
        conversation = (await detail(agent, ticket_id))["comments"]
        await eventually(lambda: queue_is_empty(conn), what="no work to be left")

        assert (outcome(echo), outcome(from_github)) == ("ignored", "applied")
        assert [c["body"] for c in conversation] == [
            "Fixed on main.",
            "Internal: customer is on the old plan.",
            "You are totally right! I'll get this fixed right away.",
        ]
        assert conversation[2]["github_login"] == "Codertocat"
        assert len(gh.comments(OWNER, REPO, 1)) == 1  # nothing echoed back to GitHub

        # Closed in ticketdesk → closed on GitHub.
        closed = await agent.delete(f"/api/v1/tickets/{ticket_id}/close")
        await eventually(lambda: queue_is_empty(conn), what="the close to be mirrored")

        assert closed.status_code == 200
        assert gh.issue(OWNER, REPO, 1)["state"] == "closed"
        assert gh.issue(OWNER, REPO, 1)["state_reason"] == "not_planned"

        # Reopened on GitHub → reopened in ticketdesk; closed there → resolved here.
        gh.reopen_issue(OWNER, REPO, 1, user="Codertocat")
        reopened = await deliver(anon, "issues", fixture_bytes("issues/reopened"))
        after_reopen = await detail(agent, ticket_id)
        closed_on_github = closed_delivery(gh.close_issue(OWNER, REPO, 1, user="Codertocat"))
        closing = await deliver(anon, "issues", closed_on_github, delivery="close-1")
        after_close = await detail(agent, ticket_id)

        assert (outcome(reopened), outcome(closing)) == ("applied", "applied")
        assert after_reopen["status"] == "open"
        assert after_close["status"] == "resolved"

        # A replayed delivery changes nothing; a forged one is refused.
        timeline = await agent.get(f"/api/v1/tickets/{ticket_id}/events")
        replay = await deliver(anon, "issues", closed_on_github, delivery="close-1")
        forged_body = fixture_bytes("issues/reopened")
        forged = await deliver(
            anon, "issues", forged_body, signature=sign(forged_body, "guessed-secret")
        )
        timeline_after = await agent.get(f"/api/v1/tickets/{ticket_id}/events")
        await eventually(lambda: queue_is_empty(conn), what="no work to be left")
        final = await detail(agent, ticket_id)
        responses += [str(final), timeline_after.text]

        assert outcome(replay) == "duplicate"
        assert forged.status_code == 401
        assert timeline_after.json() == timeline.json()
        assert final["status"] == "resolved"
        assert gh.issue(OWNER, REPO, 1)["state"] == "closed"  # GitHub's own close stands
        assert issue_or_none(gh, 2) is None
        assert gh.validation_errors == []

        # The token appeared nowhere: logs, API responses, job records.
        cur = await conn.execute("select * from job_errors")
        job_errors = await cur.fetchall()
        cur = await conn.execute("select * from github_links")
        links = await cur.fetchall()
        for text in (caplog.text, *responses, str(job_errors), str(links)):
            assert gh.token not in text


async def _synced(client: AsyncClient, ticket_id: str) -> bool:
    github = (await detail(client, ticket_id))["github"]
    return github is not None and github["state"] == "synced"


class TestGitHubTrouble:
    @pytest.fixture
    def settings_overrides(self, gh: FakeGitHub) -> dict[str, Any]:
        """Enough retries (each a fraction of a second) to ride out a short outage."""
        overrides = github_settings(gh)
        overrides["jobs"]["max_attempts"] = 40
        return overrides

    async def test_down_then_back(
        self,
        accounts: Accounts,
        conn: Connection,
        gh: FakeGitHub,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.DEBUG)
        agent = accounts.agent.client
        gh.down()

        created = await accounts.alice.client.post("/api/v1/tickets", json=ticket_body())
        ticket_id = created.json()["id"]
        failing = await eventually(lambda: _failing(agent, ticket_id), what="a failed attempt")
        gh.up()
        await eventually(lambda: _synced(agent, ticket_id), what="the issue once GitHub is back")

        assert created.status_code == 201
        assert "Could not reach GitHub" in failing
        assert issue_or_none(gh, 1) is not None
        assert issue_or_none(gh, 2) is None
        assert gh.token not in caplog.text

    async def test_requests_never_wait_for_github(
        self, accounts: Accounts, conn: Connection, gh: FakeGitHub
    ) -> None:
        """GitHub answers nothing until the user's request is done, and the request is done."""
        gh.hold()
        try:
            # The bound only stops a request that waits for GitHub from hanging the suite.
            created = await asyncio.wait_for(
                accounts.alice.client.post("/api/v1/tickets", json=ticket_body()), timeout=60
            )
            await eventually(lambda: _some(gh.held), what="the job reaching GitHub")
            answered_meanwhile = list(gh.requests)
        finally:
            gh.release()
        await eventually(
            lambda: _synced(accounts.agent.client, created.json()["id"]), what="the issue"
        )

        assert created.status_code == 201
        assert answered_meanwhile == []
        assert issue_or_none(gh, 1) is not None

    async def test_slow_github_fails_the_attempt(
        self, accounts: Accounts, conn: Connection, gh: FakeGitHub
    ) -> None:
        gh.delay(3)  # every answer takes longer than the client waits

        created = await accounts.alice.client.post("/api/v1/tickets", json=ticket_body())
        failing = await eventually(
            lambda: _failing(accounts.agent.client, created.json()["id"]), what="a timeout"
        )

        assert created.status_code == 201
        assert "did not answer" in failing

    async def test_rate_limit_waits_for_the_reset(
        self, accounts: Accounts, conn: Connection, gh: FakeGitHub
    ) -> None:
        gh.rate_limit(2, status=429, retry_after=2)
        limited_until = time.time() + 2

        created = await accounts.alice.client.post("/api/v1/tickets", json=ticket_body())
        ticket_id = created.json()["id"]
        failing = await eventually(
            lambda: _failing(accounts.agent.client, ticket_id), what="the rate limit"
        )
        await eventually(lambda: _synced(accounts.agent.client, ticket_id), what="the issue")
        creates = [r for r in gh.requests if r.method == "POST" and r.status == 201]

        assert "rate limit" in failing
        assert len(creates) == 1
        assert time.time() >= limited_until
        # Tried once, then waited out the limit instead of retrying on the usual backoff.
        assert len([r for r in gh.requests if r.status == 429]) == 1


async def _some(count: int) -> int | None:
    return count or None


async def _failing(client: AsyncClient, ticket_id: str) -> str | None:
    github = (await detail(client, ticket_id))["github"]
    if github is None or github["state"] != "error":
        return None
    error: str = github["last_error"]
    return error
