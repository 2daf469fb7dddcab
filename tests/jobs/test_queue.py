"""Deferring inside the change's transaction, and the retry policy."""

from datetime import UTC, datetime, timedelta

import psycopg
from fastapi import FastAPI
from procrastinate.jobs import Job

from tests.factories import Accounts, create_ticket, ticket_body
from ticketdesk.config import load_settings
from ticketdesk.db import Connection
from ticketdesk.jobs.queue import Backoff, GiveUp, JobEnv, RetryAt, defer, describe_error
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.schemas import TicketCreate


async def jobs_in_queue(conn: Connection) -> list[dict[str, object]]:
    cur = await conn.execute(
        "select task_name, args, lock, status::text as status from procrastinate_jobs order by id"
    )
    return await cur.fetchall()


class TestDeferOnTheSameConnection:
    async def test_rolled_back_change_leaves_no_job(
        self, app: FastAPI, accounts: Accounts, conn: Connection
    ) -> None:
        async with conn.transaction():
            await tickets.create_ticket(
                conn, accounts.alice.actor, TicketCreate(**ticket_body()), idempotency_key=None
            )
            inside = await jobs_in_queue(conn)
            raise psycopg.Rollback

        assert len(inside) == 1
        assert await jobs_in_queue(conn) == []
        cur = await conn.execute("select count(*) as n from github_links")
        assert await cur.fetchone() == {"n": 0}

    async def test_committed_change_has_its_job(
        self, app: FastAPI, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        assert await jobs_in_queue(conn) == [
            {
                "task_name": "github.sync_ticket",
                "args": {"ticket_id": str(ticket.id)},
                "lock": f"github:{ticket.id}",
                "status": "todo",
            }
        ]

    async def test_refused_request_leaves_no_job(
        self, app: FastAPI, accounts: Accounts, conn: Connection
    ) -> None:
        first = await create_ticket(conn, accounts.alice)
        second = await create_ticket(conn, accounts.alice)
        agent = accounts.agent.client
        moved = await agent.put(f"/api/v1/tickets/{first.id}", json={"status": "in_progress"})
        closed = await agent.delete(f"/api/v1/tickets/{second.id}/close")
        queued = len(await jobs_in_queue(conn))

        # The first ticket is resolved (queueing a sync), then the second, closed, refuses
        # (a closed ticket only reopens): 409.
        refused = await agent.post(
            "/api/v1/tickets/bulk",
            json={
                "ticket_ids": [str(first.id), str(second.id)],
                "action": "status",
                "value": "resolved",
            },
        )
        still = await agent.get(f"/api/v1/tickets/{first.id}")

        assert moved.status_code == 200
        assert closed.status_code == 200
        assert queued == 4
        assert refused.status_code == 409
        assert still.json()["status"] == "in_progress"
        assert len(await jobs_in_queue(conn)) == queued

    async def test_defer_helper(self, conn: Connection) -> None:
        async with conn.transaction():
            await defer(conn, "some.task", answer=42)
            raise psycopg.Rollback
        async with conn.transaction():
            job_id = await defer(conn, "some.task", lock="l", answer=42)

        [job] = await jobs_in_queue(conn)
        assert job_id > 0
        assert job == {
            "task_name": "some.task",
            "args": {"answer": 42},
            "lock": "l",
            "status": "todo",
        }


def _job(attempts: int) -> Job:
    return Job(queue="default", lock=None, queueing_lock=None, task_name="t", attempts=attempts)


class TestBackoff:
    policy = Backoff(base_seconds=2, cap_seconds=60, max_attempts=5)

    def test_exponential_with_jitter_and_a_cap(self) -> None:
        for failures, ceiling in ((1, 2), (2, 4), (3, 8), (4, 16), (7, 60), (30, 60)):
            delays = [self.policy.delay(failures) for _ in range(50)]
            assert all(ceiling / 2 <= d <= ceiling for d in delays), (failures, delays)

    def test_retries_until_the_last_attempt(self) -> None:
        error = RuntimeError("GitHub answered 503")
        before = datetime.now(UTC)

        decisions = [self.policy.get_retry_decision(exception=error, job=_job(n)) for n in range(5)]

        assert [d is not None for d in decisions] == [True, True, True, True, False]
        first = decisions[0]
        assert first is not None
        assert first.retry_at is not None
        assert before + timedelta(seconds=1) <= first.retry_at <= before + timedelta(seconds=3)

    def test_give_up_at_once(self) -> None:
        decision = self.policy.get_retry_decision(exception=GiveUp("bad token"), job=_job(0))

        assert decision is None

    def test_known_retry_time_is_kept_even_after_many_attempts(self) -> None:
        reset = datetime.now(UTC) + timedelta(minutes=30)

        decision = self.policy.get_retry_decision(
            exception=RetryAt("rate limited", at=reset), job=_job(40)
        )

        assert decision is not None
        assert decision.retry_at == reset


def test_errors_are_stored_without_secrets() -> None:
    token = "ghp_secretsecretsecret"

    text = describe_error(ValueError(f"bad header Authorization: Bearer {token}"), [token])

    assert token not in text
    assert text == "ValueError: bad header Authorization: Bearer [redacted]"


def test_the_secrets_a_job_must_not_store() -> None:
    settings = load_settings(
        smtp_url="smtp://desk:mail-password@mail.example.com:587",
        tickets={"github": {"enabled": True, "repo": "o/r", "token": "ghp_token"}},
    )

    env = JobEnv(settings=settings, pool=None)  # type: ignore[arg-type]

    assert sorted(env.secrets()) == ["ghp_token", "mail-password"]
