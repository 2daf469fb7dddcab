"""The sync job against the fake GitHub: what reaches GitHub, and what never does twice."""

import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from fastapi import FastAPI
from procrastinate import JobContext
from procrastinate.jobs import Job

from tests.factories import Accounts, create_ticket
from tests.fakes.github import FakeGitHub
from tests.github.support import PAYLOAD_REPO
from ticketdesk.comments import service as comments
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.github import service
from ticketdesk.github.client import GitHubRateLimited, GitHubUnavailable
from ticketdesk.github.tasks import sync_ticket
from ticketdesk.jobs.queue import ENV_KEY, Backoff, JobEnv
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.access import get_visible_ticket
from ticketdesk.tickets.schemas import TicketUpdate
from ticketdesk.worker import create_queue

WINDOW = Settings().reopen_window

OWNER, REPO = PAYLOAD_REPO.split("/")


async def run_sync(app: FastAPI, ticket_id: UUID) -> None:
    """Run the sync job's task once, as a worker would, and let errors out."""
    settings = app.state.settings
    job = Job(
        id=1,
        queue="default",
        lock=None,
        queueing_lock=None,
        task_name=service.SYNC_TICKET_TASK,
        task_kwargs={"ticket_id": str(ticket_id)},
    )
    context = JobContext(
        app=create_queue(settings),
        job=job,
        start_timestamp=time.time(),
        abort_reason=lambda: None,
        additional_context={ENV_KEY: JobEnv(settings=settings, pool=app.state.pool)},
    )
    await sync_ticket(context, str(ticket_id))


async def link_row(conn: Connection, ticket_id: UUID) -> service.Link:
    link = await service.get_link(conn, ticket_id)
    assert link is not None
    return link


def posts(gh: FakeGitHub, suffix: str = "/issues") -> list[Any]:
    """The POST requests the fake received whose path ends with ``suffix``."""
    return [r for r in gh.requests if r.method == "POST" and r.path.endswith(suffix)]


class TestMirroring:
    async def test_ticket_to_issue(
        self, app: FastAPI, accounts: Accounts, conn: Connection, gh: FakeGitHub
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice, title="Exports fail on large reports")
        agent = accounts.agent.actor

        await run_sync(app, ticket.id)
        issue = gh.issue(OWNER, REPO, 1)
        link = await link_row(conn, ticket.id)
        detail = (await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}")).json()

        assert issue["title"] == "Exports fail on large reports"
        assert [label["name"] for label in issue["labels"]] == ["ticketdesk"]
        assert issue["body"].startswith(ticket.description)
        assert service.ticket_id_in_issue(issue["body"]) == ticket.id
        assert f'"number": {ticket.number}' in issue["body"]
        assert f"https://desk.example.com/tickets/{ticket.number}" in issue["body"]
        assert accounts.alice.user.email not in str(gh.requests)
        assert detail["github_issue_number"] == 1
        assert detail["github"]["state"] == "synced"
        assert detail["github"]["issue_url"] == issue["html_url"]
        assert link.pushed_open is True

        async with conn.transaction():
            locked = await get_visible_ticket(conn, agent, str(ticket.id), for_update=True)
            await comments.add_comment(
                conn, agent, locked, "Reproduced on 2.4.", is_internal=False, reopen_window=WINDOW
            )
            await comments.add_comment(
                conn, agent, locked, "Customer is big.", is_internal=True, reopen_window=WINDOW
            )
        await run_sync(app, ticket.id)
        await run_sync(app, ticket.id)  # nothing new: nothing sent again
        mirrored = gh.comments(OWNER, REPO, 1)

        assert len(mirrored) == 1
        assert "Reproduced on 2.4." in mirrored[0]["body"]
        assert "**Aaron Agent** (agent)" in mirrored[0]["body"]
        assert "Customer is big." not in str(gh.requests)
        assert len(posts(gh, "/comments")) == 1

        async with conn.transaction():
            await tickets.update_ticket(
                conn,
                agent,
                str(ticket.id),
                TicketUpdate(title="Exports fail above 10 MB"),
                if_match=None,
                reopen_window=WINDOW,
            )
            await tickets.close_ticket(conn, agent, str(ticket.id), if_match=None)
        await run_sync(app, ticket.id)
        closed = gh.issue(OWNER, REPO, 1)

        assert closed["title"] == "Exports fail above 10 MB"
        assert (closed["state"], closed["state_reason"]) == ("closed", "not_planned")

        async with conn.transaction():
            await tickets.update_ticket(
                conn,
                agent,
                str(ticket.id),
                TicketUpdate(status="open"),
                if_match=None,
                reopen_window=WINDOW,
            )
        await run_sync(app, ticket.id)

        assert gh.issue(OWNER, REPO, 1)["state"] == "open"
        assert len(posts(gh)) == 1
        assert gh.validation_errors == []

    async def test_resolved_closes_as_completed(
        self, app: FastAPI, accounts: Accounts, conn: Connection, gh: FakeGitHub
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await run_sync(app, ticket.id)
        agent = accounts.agent.actor
        for status in ("in_progress", "resolved"):
            async with conn.transaction():
                await tickets.update_ticket(
                    conn,
                    agent,
                    str(ticket.id),
                    TicketUpdate(status=status),
                    if_match=None,
                    reopen_window=WINDOW,
                )
        await run_sync(app, ticket.id)

        issue = gh.issue(OWNER, REPO, 1)
        assert (issue["state"], issue["state_reason"]) == ("closed", "completed")

    async def test_submitters_reply_reopens_the_issue(
        self, app: FastAPI, accounts: Accounts, conn: Connection, gh: FakeGitHub
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await accounts.agent.client.delete(f"/api/v1/tickets/{ticket.id}/close")
        await run_sync(app, ticket.id)
        assert gh.issue(OWNER, REPO, 1)["state"] == "closed"

        response = await accounts.alice.client.post(
            f"/api/v1/tickets/{ticket.id}/comments", json={"comment": "It broke again today."}
        )
        await run_sync(app, ticket.id)

        assert response.status_code == 201
        assert gh.issue(OWNER, REPO, 1)["state"] == "open"
        assert "It broke again today." in gh.comments(OWNER, REPO, 1)[0]["body"]


class TestNoDuplicateIssue:
    async def test_issue_created_before_a_crash_is_found(
        self, app: FastAPI, accounts: Accounts, conn: Connection, gh: FakeGitHub
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        gh.create_issue(OWNER, REPO, "Someone else's older issue", "no marker")
        # The worker sent the create request, GitHub made the issue, the worker died.
        await service.mark_create_attempt(conn, ticket.id)
        url = f"https://desk.example.com/tickets/{ticket.number}"
        body = f"{ticket.description}\n\n{service.issue_marker(ticket, url)}\n"
        gh.create_issue(
            OWNER, REPO, ticket.title, body, labels=["ticketdesk"], user="ticketdesk-bot"
        )
        gh.create_issue(OWNER, REPO, "A newer issue", "opened after ours")

        await run_sync(app, ticket.id)
        link = await link_row(conn, ticket.id)

        assert link.issue_number == 2
        assert posts(gh) == []
        assert link.last_synced_at is not None

    async def test_answer_lost_to_a_timeout(
        self, app: FastAPI, accounts: Accounts, conn: Connection, gh: FakeGitHub
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        gh.delay(1.5)  # longer than the client waits; GitHub still creates the issue

        with pytest.raises(GitHubUnavailable, match="did not answer"):
            await run_sync(app, ticket.id)
        gh.delay(0)
        await run_sync(app, ticket.id)
        link = await link_row(conn, ticket.id)
        marked = [
            number
            for number in range(1, 4)
            if _exists(gh, number)
            and service.ticket_id_in_issue(gh.issue(OWNER, REPO, number)["body"]) == ticket.id
        ]

        assert marked == [1]
        assert link.issue_number == 1
        assert len(posts(gh)) == 1

    async def test_nothing_was_created(
        self, app: FastAPI, accounts: Accounts, conn: Connection, gh: FakeGitHub
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        for n in range(3):
            gh.create_issue(OWNER, REPO, f"Old issue {n}", "no marker")
        # An attempt made well after those issues (beyond the clock-skew margin).
        await conn.execute(
            "update github_links set create_attempted_at = now() + interval '1 hour'"
        )

        await run_sync(app, ticket.id)
        link = await link_row(conn, ticket.id)

        assert link.issue_number == 4
        assert len(posts(gh)) == 1


def _exists(gh: FakeGitHub, number: int) -> bool:
    try:
        gh.issue(OWNER, REPO, number)
    except LookupError:
        return False
    return True


class TestGitHubTrouble:
    async def test_rate_limit_waits_for_the_reset(
        self, app: FastAPI, accounts: Accounts, conn: Connection, gh: FakeGitHub
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        gh.rate_limit(120, status=403)
        reset = datetime.fromtimestamp(int(time.time() + 120), UTC)

        with pytest.raises(GitHubRateLimited) as raised:
            await run_sync(app, ticket.id)
        requests_before = len(gh.requests)
        with pytest.raises(GitHubRateLimited):
            await run_sync(app, ticket.id)  # every worker now waits without asking GitHub
        link = await link_row(conn, ticket.id)
        decision = Backoff(1, 10, 2).get_retry_decision(
            exception=raised.value,
            job=Job(queue="default", lock=None, queueing_lock=None, task_name="t", attempts=5),
        )

        assert abs((raised.value.at - reset).total_seconds()) <= 1
        assert len(gh.requests) == requests_before
        assert decision is not None
        assert decision.retry_at == raised.value.at
        assert link.last_error is not None
        assert "rate limit" in link.last_error

    async def test_comment_posted_before_a_crash_is_not_posted_again(
        self, app: FastAPI, accounts: Accounts, conn: Connection, gh: FakeGitHub
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await run_sync(app, ticket.id)
        async with conn.transaction():
            locked = await get_visible_ticket(
                conn, accounts.alice.actor, str(ticket.id), for_update=True
            )
            comment = await comments.add_comment(
                conn,
                accounts.alice.actor,
                locked,
                "Still broken today.",
                is_internal=False,
                reopen_window=WINDOW,
            )
        await service.start_comment_mirror(conn, comment.id)
        gh.add_comment(
            OWNER,
            REPO,
            1,
            f"posted\n\n{service.comment_marker(comment.id)}\n",
            user="ticketdesk-bot",
        )

        await run_sync(app, ticket.id)

        assert len(gh.comments(OWNER, REPO, 1)) == 1
        assert posts(gh, "/comments") == []
