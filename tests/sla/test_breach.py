"""A breach, as the timed job finds it: one internal timeline event, one webhook delivery
to staff-only endpoints and one mail (to the assignee, else the active staff of the
ticket's team, else the admins), however many runs of the job meet. Mail goes through a
real worker to a real SMTP server, webhooks to a real receiver; the job runs as a worker
runs it, at a tick in the future."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from procrastinate import JobContext
from procrastinate.jobs import Job
from standardwebhooks import Webhook

from tests.factories import Accounts, make_user
from tests.mailservers import SmtpServer
from tests.notifications.conftest import mail_settings
from tests.notifications.support import assign, comment, mail_to, open_ticket, plain, settled
from tests.sla.support import create_policy, ticket_as
from tests.teams.test_endpoints import make_team
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import create_webhook
from tests.webhooks.support import settled as deliveries_settled
from tests.workers import running_worker
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.jobs.queue import ENV_KEY, JobEnv
from ticketdesk.mail.addresses import address_of
from ticketdesk.tickets import tasks
from ticketdesk.worker import create_queue


@pytest.fixture
def settings_overrides(smtp_server: SmtpServer) -> dict[str, Any]:
    """Mail to the test's SMTP server; webhooks to a receiver on 127.0.0.1."""
    mail = mail_settings(smtp_server)
    return {
        **mail,
        "webhooks": {"allow_private_targets": True, "timeout_seconds": 1.0},
        "jobs": {**mail["jobs"], "poll_interval_seconds": 0.1},
    }


@pytest.fixture
async def worker(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    async with running_worker(app, settings):
        yield


pytestmark = pytest.mark.usefixtures("worker")


async def tick(app: FastAPI, at: datetime, *, runs: int = 2) -> None:
    """Run the SLA job ``runs`` times at once for the tick at ``at``, as workers would were
    two handed the same tick."""
    settings: Settings = app.state.settings
    timestamp = int(at.timestamp())

    async def one(run: int) -> None:
        job = Job(
            id=run,
            queue="default",
            lock=None,
            queueing_lock=None,
            task_name=tasks.SLA_TASK,
            task_kwargs={"timestamp": timestamp},
        )
        context = JobContext(
            app=create_queue(settings),
            job=job,
            start_timestamp=time.time(),
            abort_reason=lambda: None,
            additional_context={ENV_KEY: JobEnv(settings=settings, pool=app.state.pool)},
        )
        await tasks.check_sla(context, timestamp)

    await asyncio.gather(*(one(run) for run in range(1, runs + 1)))


async def kinds(accounts: Accounts, ticket: dict[str, Any], person: str) -> list[str]:
    response = await getattr(accounts, person).client.get(f"/api/v1/tickets/{ticket['id']}/events")
    assert response.status_code == 200, response.text
    return [event["kind"] for event in response.json()["items"]]


class TestBreach:
    async def test_the_assignee_is_told_once_and_staff_webhooks_hear_once(
        self,
        app: FastAPI,
        accounts: Accounts,
        conn: Connection,
        smtp_server: SmtpServer,
        receiver: Receiver,
    ) -> None:
        staff_hook = await create_webhook(
            accounts.admin, receiver.url, events=["ticket.sla_breached"], staff_only=True
        )
        await create_policy(accounts.admin, name="Gold")
        ticket = await open_ticket(accounts.alice, priority="high", title="Checkout is down")
        await assign(accounts.admin, ticket, accounts.agent)
        await comment(accounts.agent, ticket, "Internal: card flagged by FRD-55821.", internal=True)
        await settled(conn)
        before = len(smtp_server.messages)
        created = datetime.fromisoformat(ticket["created_at"])

        for _ in range(2):
            await tick(app, created + timedelta(minutes=61))
        await settled(conn)
        [delivery] = await deliveries_settled(accounts.admin, staff_hook, 1)

        [alert] = smtp_server.messages[before:]
        assert alert in mail_to(smtp_server, accounts.agent)
        assert alert["Subject"] == f"[#{ticket['number']}] Checkout is down"
        due = created + timedelta(minutes=60)
        assert "This high ticket missed its SLA first response target, due" in plain(alert)
        assert f"{due:%Y-%m-%d %H:%M} UTC" in plain(alert)
        assert (await kinds(accounts, ticket, "agent")).count("sla_breached") == 1
        assert "sla_breached" not in await kinds(accounts, ticket, "alice")
        assert (await ticket_as(accounts.agent, ticket))["sla_state"] == "breached"

        assert delivery["status"] == "succeeded"
        [received] = receiver.received
        body = Webhook(staff_hook["secret"]).verify(received.body, received.headers)
        assert body["type"] == "ticket.sla_breached"
        assert body["data"]["ticket"]["number"] == ticket["number"]
        assert body["data"]["sla"] == {
            "target": "first_response",
            "due_at": due.isoformat(),
            "policy": "Gold",
        }
        assert "FRD-55821" not in json.dumps(body)

    async def test_with_no_assignee_the_admins_are_told(
        self, app: FastAPI, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        await create_policy(accounts.admin)
        ticket = await open_ticket(accounts.alice, priority="high")
        await settled(conn)
        before = len(smtp_server.messages)

        await tick(app, datetime.fromisoformat(ticket["created_at"]) + timedelta(minutes=61))
        await settled(conn)

        [alert] = smtp_server.messages[before:]
        assert alert in mail_to(smtp_server, accounts.admin)

    async def test_with_no_assignee_the_tickets_team_is_told(
        self, app: FastAPI, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        dana = await make_user(conn, role="agent", name="Dana Agent")
        gone = await make_user(conn, role="agent", name="Gone Agent")
        team = await make_team(
            accounts, "Billing", [str(p.id) for p in (accounts.agent.user, dana, gone)]
        )
        await conn.execute("update users set is_active = false where id = %s", (gone.id,))
        await create_policy(accounts.admin)
        ticket = await open_ticket(accounts.alice, priority="high")
        routed = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket['id']}/assign",
            json={"assignee_id": None, "team_id": team["id"]},
        )
        assert routed.status_code == 200, routed.text
        await settled(conn)
        before = len(smtp_server.messages)

        await tick(app, datetime.fromisoformat(ticket["created_at"]) + timedelta(minutes=61))
        await settled(conn)

        alerts = smtp_server.messages[before:]
        assert sorted(address_of(m["To"]) for m in alerts) == sorted(
            [accounts.agent.user.email, dana.email]
        )
        assert "missed its SLA first response target" in plain(alerts[0])

    async def test_a_team_with_no_active_staff_leaves_it_to_the_admins(
        self, app: FastAPI, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        team = await make_team(accounts, "Nobody home", [])
        await create_policy(accounts.admin)
        ticket = await open_ticket(accounts.alice, priority="high")
        routed = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket['id']}/assign",
            json={"assignee_id": None, "team_id": team["id"]},
        )
        assert routed.status_code == 200, routed.text
        await settled(conn)
        before = len(smtp_server.messages)

        await tick(app, datetime.fromisoformat(ticket["created_at"]) + timedelta(minutes=61))
        await settled(conn)

        [alert] = smtp_server.messages[before:]
        assert alert in mail_to(smtp_server, accounts.admin)

    async def test_only_a_staff_only_endpoint_may_take_breaches(
        self, accounts: Accounts, receiver: Receiver
    ) -> None:
        refused = await accounts.admin.client.post(
            "/api/v1/webhooks",
            json={"name": "Public", "url": receiver.url, "events": ["ticket.sla_breached"]},
        )
        assert refused.status_code == 422
        assert refused.json()["field"] == "events"
