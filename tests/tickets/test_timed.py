"""The timed rules, with the clock moved in the database: escalating tickets left without
a staff reply, and closing tickets left resolved. Mail goes through the real worker to a
real SMTP server; a tick is the task run as a worker runs it."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from fastapi import FastAPI
from procrastinate import JobContext
from procrastinate.jobs import Job

from tests.factories import Accounts, Person
from tests.jobs.waiting import eventually
from tests.mailservers import SmtpServer
from tests.notifications.conftest import mail_settings
from tests.notifications.support import (
    comment,
    html,
    mail_to,
    open_ticket,
    plain,
    set_status,
    settled,
)
from tests.workers import running_worker
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.jobs.queue import ENV_KEY, JobEnv, defer
from ticketdesk.tickets import tasks
from ticketdesk.worker import PERIODIC, create_queue


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest, smtp_server: SmtpServer) -> dict[str, Any]:
    """Mail on, aimed at the test's SMTP server; the timed rules a test names (by indirect
    parametrisation), else the defaults."""
    rules: dict[str, Any] = getattr(request, "param", {})
    return {**mail_settings(smtp_server), **rules}


@pytest.fixture
async def worker(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """A job worker on the app's pool, sending the mail, stopped after the test."""
    async with running_worker(app, settings):
        yield


pytestmark = pytest.mark.usefixtures("worker")

Task = Callable[[JobContext, int], Awaitable[None]]


async def tick(app: FastAPI, task: Task, *, runs: int = 1) -> None:
    """Run ``task`` as a worker runs a periodic job, ``runs`` times at once (as workers
    would, were two handed the same tick), then let the mail it caused go out."""
    settings: Settings = app.state.settings
    now = int(time.time())

    async def one(run: int) -> None:
        job = Job(
            id=run,
            queue="default",
            lock=None,
            queueing_lock=None,
            task_name="tick",
            task_kwargs={"timestamp": now},
        )
        context = JobContext(
            app=create_queue(settings),
            job=job,
            start_timestamp=time.time(),
            abort_reason=lambda: None,
            additional_context={ENV_KEY: JobEnv(settings=settings, pool=app.state.pool)},
        )
        await task(context, now)

    await asyncio.gather(*(one(run) for run in range(1, runs + 1)))


async def opened_ago(conn: Connection, ticket: dict[str, Any], hours: float) -> None:
    await conn.execute(
        "update tickets set created_at = now() - make_interval(secs => %s) where id = %s",
        (hours * 3600, ticket["id"]),
    )


async def resolved_ago(conn: Connection, ticket: dict[str, Any], days: float) -> None:
    """Move the resolution, and every comment made before it, ``days`` back."""
    await conn.execute(
        "update comments set created_at = created_at - make_interval(secs => %s)"
        " where ticket_id = %s",
        (days * 86400, ticket["id"]),
    )
    await conn.execute(
        "update tickets set resolved_at = now() - make_interval(secs => %s) where id = %s",
        (days * 86400, ticket["id"]),
    )


async def events(person: Person, ticket: dict[str, Any]) -> list[dict[str, Any]]:
    response = await person.client.get(f"/api/v1/tickets/{ticket['id']}/events")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def status_of(person: Person, ticket: dict[str, Any]) -> str:
    response = await person.client.get(f"/api/v1/tickets/{ticket['id']}")
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


class TestEscalation:
    async def test_a_critical_ticket_without_a_staff_reply_alerts_admins_once(
        self, app: FastAPI, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        late = await open_ticket(accounts.alice, priority="critical", title="Checkout is down")
        recent = await open_ticket(accounts.bob, priority="critical")
        await settled(conn)
        await opened_ago(conn, late, 5)
        await opened_ago(conn, recent, 3)
        before = len(smtp_server.messages)

        await tick(app, tasks.escalate)
        await settled(conn)
        await tick(app, tasks.escalate)
        await settled(conn)

        [alert] = smtp_server.messages[before:]
        assert alert in mail_to(smtp_server, accounts.admin)
        assert alert["Subject"] == f"[#{late['number']}] Checkout is down"
        text = plain(alert)
        assert "This critical ticket from" in text
        assert "open for more than 4 hours without a reply from staff" in text
        [escalated] = [e for e in await events(accounts.agent, late) if e["kind"] == "escalated"]
        assert escalated["actor"] is None
        assert escalated["data"] == {"priority": "critical", "after_hours": 4}
        assert [e["kind"] for e in await events(accounts.agent, recent)] == ["created"]
        # Staff business: the submitter's timeline does not show it.
        assert [e["kind"] for e in await events(accounts.alice, late)] == ["created"]

    async def test_an_internal_note_still_mails_no_one(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        # Escalations are internal changes that are mailed; notes stay unmailed.
        ticket = await open_ticket(accounts.alice, priority="critical")
        await settled(conn)
        before = len(smtp_server.messages)

        await comment(
            accounts.agent, ticket, "The provider says it is on their side.", internal=True
        )
        await settled(conn)

        assert smtp_server.messages[before:] == []
        cur = await conn.execute(
            "select count(*) as n from notifications"
            " where ticket_id = %s and kind not in ('ticket_created', 'new_ticket')",
            (ticket["id"],),
        )
        assert await cur.fetchone() == {"n": 0}

    async def test_tickets_long_overdue_are_not_alerted_at_once(
        self, app: FastAPI, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        # After an upgrade or a change of settings, only tickets that became due within
        # the last day are escalated: no burst of alerts about years-old tickets.
        stale = await open_ticket(accounts.alice, priority="critical")
        due = await open_ticket(accounts.bob, priority="critical", title="Invoices are blank")
        await settled(conn)
        await opened_ago(conn, stale, 4 + 72)
        await opened_ago(conn, due, 4 + 1)
        before = len(smtp_server.messages)

        await tick(app, tasks.escalate)
        await settled(conn)

        [alert] = smtp_server.messages[before:]
        assert alert["Subject"] == f"[#{due['number']}] Invoices are blank"
        assert "escalated" not in [e["kind"] for e in await events(accounts.agent, stale)]
        assert "escalated" in [e["kind"] for e in await events(accounts.agent, due)]

    async def test_a_staff_reply_prevents_it_and_a_note_or_the_submitter_does_not(
        self, app: FastAPI, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        answered = await open_ticket(accounts.alice, priority="critical")
        noted = await open_ticket(accounts.bob, priority="critical", title="Refunds are stuck")
        await comment(accounts.agent, answered, "Looking at it now, sorry for the trouble.")
        await comment(accounts.agent, noted, "Probably the payment provider.", internal=True)
        await comment(accounts.bob, noted, "Any news? Customers are waiting.")
        await settled(conn)
        for ticket in (answered, noted):
            await opened_ago(conn, ticket, 6)
        before = len(smtp_server.messages)

        await tick(app, tasks.escalate)
        await settled(conn)

        [alert] = smtp_server.messages[before:]
        assert alert["Subject"] == f"[#{noted['number']}] Refunds are stuck"
        assert "escalated" not in [e["kind"] for e in await events(accounts.agent, answered)]

    async def test_only_the_chosen_priority_and_only_unfinished_tickets(
        self, app: FastAPI, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        high = await open_ticket(accounts.alice, priority="high")
        done = await open_ticket(accounts.alice, priority="critical")
        await set_status(accounts.agent, done, "closed")
        await settled(conn)
        for ticket in (high, done):
            await opened_ago(conn, ticket, 24)
        before = len(smtp_server.messages)

        await tick(app, tasks.escalate)
        await settled(conn)

        assert smtp_server.messages[before:] == []
        for ticket in (high, done):
            assert "escalated" not in [e["kind"] for e in await events(accounts.agent, ticket)]

    @pytest.mark.parametrize(
        "settings_overrides",
        [{"escalation": {"priority": "high", "after_hours": 1}}],
        indirect=True,
    )
    async def test_priority_and_hours_are_settings(
        self, app: FastAPI, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        high = await open_ticket(accounts.alice, priority="high", title="Search is very slow")
        critical = await open_ticket(accounts.alice, priority="critical")
        await settled(conn)
        for ticket in (high, critical):
            await opened_ago(conn, ticket, 2)
        before = len(smtp_server.messages)

        await tick(app, tasks.escalate)
        await settled(conn)

        [alert] = smtp_server.messages[before:]
        assert alert["Subject"] == f"[#{high['number']}] Search is very slow"
        assert "This high ticket from" in plain(alert)
        assert "open for more than 1 hour without a reply from staff" in plain(alert)

    async def test_two_runs_of_one_tick_escalate_once(
        self, app: FastAPI, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        tickets = [await open_ticket(accounts.alice, priority="critical") for _ in range(5)]
        await settled(conn)
        for ticket in tickets:
            await opened_ago(conn, ticket, 5)
        before = len(smtp_server.messages)

        await tick(app, tasks.escalate, runs=2)
        await settled(conn)

        cur = await conn.execute(
            "select count(*) as n from ticket_events where kind = 'escalated'"
            " and ticket_id = any(%s::uuid[])",
            ([t["id"] for t in tickets],),
        )
        assert await cur.fetchone() == {"n": 5}
        alerts = smtp_server.messages[before:]
        assert len(alerts) == 5
        assert {a["Subject"] for a in alerts} == {f"[#{t['number']}] {t['title']}" for t in tickets}

    async def test_an_admin_who_turned_escalation_off_gets_none(
        self, app: FastAPI, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        turned = await accounts.admin.client.put(
            "/api/v1/me/notifications", json={"kinds": [{"kind": "escalation", "enabled": False}]}
        )
        late = await open_ticket(accounts.alice, priority="critical")
        await settled(conn)
        await opened_ago(conn, late, 5)
        before = len(smtp_server.messages)

        await tick(app, tasks.escalate)
        await settled(conn)

        assert turned.status_code == 200
        assert smtp_server.messages[before:] == []
        assert "escalated" in [e["kind"] for e in await events(accounts.agent, late)]

    async def test_the_worker_runs_it_as_a_periodic_job(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        late = await open_ticket(accounts.alice, priority="critical")
        await settled(conn)
        await opened_ago(conn, late, 5)
        before = len(smtp_server.messages)

        async with conn.transaction():
            await defer(conn, tasks.ESCALATE_TASK, timestamp=0)
        await eventually(lambda: _no_job(conn, tasks.ESCALATE_TASK), what="the escalation job")
        await settled(conn)

        [alert] = smtp_server.messages[before:]
        assert alert in mail_to(smtp_server, accounts.admin)
        # Both timed rules are scheduled by every worker, on their crons.
        assert PERIODIC[tasks.ESCALATE_TASK] == "*/5 * * * *"
        assert PERIODIC[tasks.AUTO_CLOSE_TASK] == "41 * * * *"


async def _no_job(conn: Connection, task_name: str) -> bool:
    cur = await conn.execute(
        "select count(*) as n from procrastinate_jobs"
        " where task_name = %s and status in ('todo', 'doing')",
        (task_name,),
    )
    row = await cur.fetchone()
    return row is not None and row["n"] == 0


class TestAutoClose:
    async def test_a_ticket_resolved_for_a_week_closes_and_its_submitter_is_told(
        self, app: FastAPI, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        old = await open_ticket(accounts.alice, title="Password reset mail never arrives")
        fresh = await open_ticket(accounts.bob)
        for ticket in (old, fresh):
            await set_status(accounts.agent, ticket, "in_progress")
            await set_status(accounts.agent, ticket, "resolved")
        await settled(conn)
        await resolved_ago(conn, old, 7.1)
        await resolved_ago(conn, fresh, 6.9)
        before = len(smtp_server.messages)

        await tick(app, tasks.auto_close)
        await settled(conn)

        assert await status_of(accounts.alice, old) == "closed"
        assert await status_of(accounts.bob, fresh) == "resolved"
        [closed] = smtp_server.messages[before:]
        assert closed in mail_to(smtp_server, accounts.alice)
        assert closed["Subject"] == f"[#{old['number']}] Password reset mail never arrives"
        text = " ".join(plain(closed).split())
        assert "Your ticket was closed automatically after 7 days without a reply." in text
        assert "Someone" not in text
        assert "closed</strong> automatically after 7 days without a reply." in html(closed)
        last = (await events(accounts.alice, old))[-1]
        assert last["kind"] == "status_changed"
        assert last["data"] == {"from": "resolved", "to": "closed", "after_days": 7}
        assert last["actor"] is None

    async def test_a_reply_since_the_resolution_restarts_the_clock(
        self, app: FastAPI, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        await set_status(accounts.agent, ticket, "in_progress")
        await set_status(accounts.agent, ticket, "resolved")
        await resolved_ago(conn, ticket, 10)
        await comment(accounts.agent, ticket, "Did the new version fix it for you?")
        await conn.execute(
            "update comments set created_at = now() - interval '3 days'"
            " where ticket_id = %s and created_at > now() - interval '1 day'",
            (ticket["id"],),
        )

        await tick(app, tasks.auto_close)
        assert await status_of(accounts.alice, ticket) == "resolved"

        await conn.execute(
            "update comments set created_at = created_at - interval '5 days' where ticket_id = %s",
            (ticket["id"],),
        )
        await tick(app, tasks.auto_close)
        assert await status_of(accounts.alice, ticket) == "closed"

    async def test_a_submitter_reply_reopens_it_so_it_does_not_close(
        self, app: FastAPI, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        await set_status(accounts.agent, ticket, "in_progress")
        await set_status(accounts.agent, ticket, "resolved")
        await comment(accounts.alice, ticket, "It is still broken for me, sadly.")
        reopened = await status_of(accounts.alice, ticket)
        await resolved_ago(conn, ticket, 30)

        await tick(app, tasks.auto_close)

        assert reopened == "open"
        assert await status_of(accounts.alice, ticket) == "open"
        kinds = [(e["kind"], e["data"].get("to")) for e in await events(accounts.agent, ticket)]
        assert ("status_changed", "closed") not in kinds

    @pytest.mark.parametrize(
        "settings_overrides", [{"tickets": {"auto_close_days": 0}}], indirect=True
    )
    async def test_zero_days_never_closes(
        self, app: FastAPI, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        await set_status(accounts.agent, ticket, "in_progress")
        await set_status(accounts.agent, ticket, "resolved")
        await resolved_ago(conn, ticket, 365)

        await tick(app, tasks.auto_close)

        assert await status_of(accounts.alice, ticket) == "resolved"

    @pytest.mark.parametrize(
        "settings_overrides", [{"tickets": {"auto_close_days": 2}}], indirect=True
    )
    async def test_the_days_are_a_setting(
        self, app: FastAPI, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        await set_status(accounts.agent, ticket, "in_progress")
        await set_status(accounts.agent, ticket, "resolved")
        await resolved_ago(conn, ticket, 2.1)

        await tick(app, tasks.auto_close)

        assert await status_of(accounts.alice, ticket) == "closed"

    async def test_two_runs_of_one_tick_close_once(
        self, app: FastAPI, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        tickets = [await open_ticket(accounts.alice) for _ in range(5)]
        for ticket in tickets:
            await set_status(accounts.agent, ticket, "in_progress")
            await set_status(accounts.agent, ticket, "resolved")
        await settled(conn)
        for ticket in tickets:
            await resolved_ago(conn, ticket, 8)
        before = len(smtp_server.messages)

        await tick(app, tasks.auto_close, runs=2)
        await settled(conn)

        cur = await conn.execute(
            "select count(*) as n from ticket_events where kind = 'status_changed'"
            " and data->>'to' = 'closed' and ticket_id = any(%s::uuid[])",
            ([t["id"] for t in tickets],),
        )
        assert await cur.fetchone() == {"n": 5}
        assert len(smtp_server.messages[before:]) == 5
        for ticket in tickets:
            assert await status_of(accounts.alice, ticket) == "closed"
