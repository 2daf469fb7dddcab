"""A real worker: retries, jobs that give up, admins retrying them, dead workers' jobs."""

import logging
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import Accounts, create_ticket
from tests.fakes.github import FakeGitHub
from tests.github.support import PAYLOAD_REPO, github_settings
from tests.jobs.waiting import eventually
from tests.workers import running_worker
from ticketdesk.config import Settings
from ticketdesk.db import Connection

OWNER, REPO = PAYLOAD_REPO.split("/")
WRONG_TOKEN = "ghp_thisTokenIsNotTheOneGitHubKnows0000"


async def job_rows(conn: Connection) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "select id, status::text as status, attempts, args from procrastinate_jobs order by id"
    )
    return await cur.fetchall()


async def errors_of(conn: Connection, job_id: int) -> list[str]:
    cur = await conn.execute(
        "select error from job_errors where job_id = %s order by id", (job_id,)
    )
    return [row["error"] for row in await cur.fetchall()]


async def _is_empty(conn: Connection) -> bool:
    return await job_rows(conn) == []


async def failed_job(conn: Connection) -> dict[str, Any] | None:
    rows = await job_rows(conn)
    return next((row for row in rows if row["status"] == "failed"), None)


@pytest.mark.usefixtures("worker")
class TestRetries:
    async def test_gives_up_then_an_admin_retries(
        self, accounts: Accounts, conn: Connection, gh: FakeGitHub
    ) -> None:
        gh.fail_next(1000, status=503)
        ticket = await create_ticket(conn, accounts.alice)

        job = await eventually(lambda: failed_job(conn), what="the job to give up")
        errors = await errors_of(conn, job["id"])
        as_agent = await accounts.agent.client.get("/api/v1/admin/jobs")
        listed = await accounts.admin.client.get("/api/v1/admin/jobs")
        staff_view = await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}")

        assert job["attempts"] == 4
        assert len(errors) == 4
        assert all("GitHub answered 503" in error for error in errors)
        assert as_agent.status_code == 403
        [item] = listed.json()["items"]
        assert (item["id"], item["task_name"], item["status"]) == (
            job["id"],
            "github.sync_ticket",
            "failed",
        )
        assert item["args"] == {"ticket_id": str(ticket.id)}
        assert item["error"] == errors[-1]
        assert staff_view.json()["github"]["state"] == "error"
        assert "503" in staff_view.json()["github"]["last_error"]

        gh.fail_next(0)
        retried = await accounts.admin.client.post(f"/api/v1/admin/jobs/{job['id']}/retry")
        await eventually(lambda: _is_empty(conn), what="the retried job to succeed")
        synced = await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}")
        again = await accounts.admin.client.post(f"/api/v1/admin/jobs/{job['id']}/retry")

        assert (retried.status_code, retried.json()["status"]) == (200, "todo")
        assert synced.json()["github"]["state"] == "synced"
        assert synced.json()["github_issue_number"] == 1
        assert gh.issue(OWNER, REPO, 1)["title"] == ticket.title
        assert again.status_code == 404  # succeeded jobs are not kept
        assert (await accounts.admin.client.get("/api/v1/admin/jobs")).json()["items"] == []


class TestDeadWorker:
    async def test_its_job_runs_again(
        self,
        app: FastAPI,
        settings: Settings,
        accounts: Accounts,
        conn: Connection,
        gh: FakeGitHub,
    ) -> None:
        # The ticket's job was fetched by a worker that then died (and was pruned).
        ticket = await create_ticket(conn, accounts.alice)
        await conn.execute("update procrastinate_jobs set status = 'doing', worker_id = null")

        async with running_worker(app, settings):
            await eventually(lambda: _is_empty(conn), what="the stalled job to run again")

        assert gh.issue(OWNER, REPO, 1)["title"] == ticket.title


class TestRefusedToken:
    @pytest.fixture
    def settings_overrides(self, gh: FakeGitHub) -> dict[str, Any]:
        """A token GitHub does not accept."""
        return github_settings(gh, token=WRONG_TOKEN)

    @pytest.mark.usefixtures("worker")
    async def test_gives_up_at_once_and_never_shows_the_token(
        self,
        accounts: Accounts,
        conn: Connection,
        caplog: pytest.LogCaptureFixture,
        anon: AsyncClient,
    ) -> None:
        caplog.set_level(logging.DEBUG)
        ticket = await create_ticket(conn, accounts.alice)

        job = await eventually(lambda: failed_job(conn), what="the job to give up")
        errors = await errors_of(conn, job["id"])
        listed = await accounts.admin.client.get("/api/v1/admin/jobs")
        detail = await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}")
        cur = await conn.execute("select * from github_links")
        links = await cur.fetchall()

        assert job["attempts"] == 1
        assert errors == [
            "GitHubRefused: GitHub refused the token (creating an issue): Bad credentials"
        ]
        assert "refused the token" in detail.json()["github"]["last_error"]
        everything = [caplog.text, str(await job_rows(conn)), str(errors), listed.text, detail.text]
        everything.append(str(links))
        assert all(WRONG_TOKEN not in text for text in everything)
        assert "refused the token" in caplog.text  # the failure itself is logged
