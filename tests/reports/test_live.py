"""Reports kept up to date by the changes as they happen (today's figures)."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi import FastAPI
from procrastinate import JobContext
from procrastinate.jobs import Job
from psycopg.rows import dict_row

from tests.factories import Accounts
from tests.reports.support import (
    REPORTS,
    by_name,
    change,
    make_labels,
    open_ticket,
    points,
    rate,
    reply,
    report,
    today,
)
from tests.sla.support import create_policy
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.jobs.queue import ENV_KEY, JobEnv
from ticketdesk.reports import tasks as reports_tasks
from ticketdesk.tickets import service as tickets
from ticketdesk.worker import PERIODIC, create_queue


class TestVolume:
    async def test_created_and_resolved_today(self, accounts: Accounts) -> None:
        first = await open_ticket(accounts.alice)
        await open_ticket(accounts.bob)
        await change(accounts.agent, first, status="resolved")
        day = today()
        found = await report(accounts.agent, "volume", day - timedelta(days=2), day)
        [series] = found["series"]
        assert series["name"] == "All tickets"
        assert [p["period"] for p in series["points"]] == [
            (day - timedelta(days=n)).isoformat() for n in (2, 1, 0)
        ]
        assert points(series, "created") == [0, 0, 2]
        assert points(series, "resolved") == [0, 0, 1]
        assert series["total"] == {"created": 2, "resolved": 1}
        assert found["time_zone"] == "UTC"

    async def test_closing_a_resolved_ticket_counts_one_resolution(
        self, accounts: Accounts
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        await change(accounts.agent, ticket, status="resolved")
        await change(accounts.agent, ticket, status="closed")
        found = await report(accounts.agent, "volume", today(), today())
        assert found["series"][0]["total"] == {"created": 1, "resolved": 1}

    async def test_split_by_type_and_priority(self, accounts: Accounts) -> None:
        await open_ticket(accounts.alice, type="bug", priority="high")
        await open_ticket(accounts.alice, type="feature", priority="high")
        await open_ticket(accounts.bob, type="feature", priority="low")
        by_type = by_name(await report(accounts.agent, "volume", today(), today(), split_by="type"))
        assert {name: s["total"]["created"] for name, s in by_type.items()} == {
            "bug": 1,
            "feature": 2,
        }
        by_priority = by_name(
            await report(accounts.agent, "volume", today(), today(), split_by="priority")
        )
        assert {name: s["total"]["created"] for name, s in by_priority.items()} == {
            "high": 2,
            "low": 1,
        }

    async def test_a_ticket_with_two_labels_counts_in_both(self, accounts: Accounts) -> None:
        await make_labels(accounts, "billing", "urgent")
        ticket = await open_ticket(accounts.alice)
        await open_ticket(accounts.alice)
        await change(accounts.agent, ticket, tags=["billing", "urgent"])
        await change(accounts.agent, ticket, status="resolved")
        found = by_name(await report(accounts.agent, "volume", today(), today(), split_by="label"))
        # Created before it was labelled: its creation counts where it was then.
        assert {name: s["total"] for name, s in found.items()} == {
            "billing": {"created": 0, "resolved": 1},
            "No label": {"created": 2, "resolved": 0},
            "urgent": {"created": 0, "resolved": 1},
        }

    async def test_split_by_agent_counts_the_resolution_where_the_ticket_is_assigned(
        self, accounts: Accounts
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        response = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket['id']}/assign",
            json={"assignee_id": str(accounts.agent.user.id)},
        )
        assert response.status_code == 200, response.text
        await change(accounts.agent, ticket, status="resolved")
        found = await report(accounts.agent, "volume", today(), today(), split_by="agent")
        assert [(s["key"], s["name"], s["total"]) for s in found["series"]] == [
            (str(accounts.agent.user.id), "Aaron Agent", {"created": 0, "resolved": 1}),
            ("", "Unassigned", {"created": 1, "resolved": 0}),
        ]

    async def test_a_ticket_opened_for_a_team_counts_its_creation_in_the_team(
        self, accounts: Accounts
    ) -> None:
        response = await accounts.admin.client.post("/api/v1/teams", json={"name": "Billing"})
        assert response.status_code == 201, response.text
        team = response.json()
        response = await accounts.admin.client.post(
            "/api/v1/assignment-rules",
            json={
                "name": "Bugs to billing",
                "conditions": {"types": ["bug"]},
                "actions": {"team_id": team["id"]},
            },
        )
        assert response.status_code == 201, response.text
        await open_ticket(accounts.alice, type="bug")
        await open_ticket(accounts.alice, type="feature")
        found = await report(accounts.agent, "volume", today(), today(), split_by="team")
        assert [(s["name"], s["total"]["created"]) for s in found["series"]] == [
            ("Billing", 1),
            ("No team", 1),
        ]

    async def test_a_week_starts_on_monday_and_is_clipped_to_the_range(
        self, accounts: Accounts
    ) -> None:
        await open_ticket(accounts.alice)
        day = today()
        monday = day - timedelta(days=day.weekday())
        start = monday - timedelta(days=10)  # a Friday
        found = await report(accounts.agent, "volume", start, day, interval="week")
        [series] = found["series"]
        assert [p["period"] for p in series["points"]] == [
            start.isoformat(),
            (monday - timedelta(days=7)).isoformat(),
            monday.isoformat(),
        ]
        assert points(series, "created") == [0, 0, 1]


class TestBacklog:
    async def test_open_at_the_end_of_each_day_and_moves_with_the_team(
        self, accounts: Accounts
    ) -> None:
        response = await accounts.admin.client.post("/api/v1/teams", json={"name": "Support"})
        assert response.status_code == 201, response.text
        team = response.json()
        first = await open_ticket(accounts.alice)
        second = await open_ticket(accounts.alice)
        await open_ticket(accounts.bob)
        await change(accounts.agent, first, status="resolved")
        await change(accounts.agent, second, team_id=team["id"])
        await change(accounts.agent, second, status="waiting")
        day = today()
        found = await report(accounts.agent, "backlog", day - timedelta(days=1), day)
        assert points(found["series"][0], "open") == [0, 2]
        by_team = by_name(
            await report(accounts.agent, "backlog", day, day + timedelta(days=1), split_by="team")
        )
        assert {name: points(s, "open") for name, s in by_team.items()} == {
            "No team": [1, 1],
            "Support": [1, 1],
        }
        # Reopening brings it back.
        await change(accounts.agent, first, status="open")
        found = await report(accounts.agent, "backlog", day, day)
        assert found["series"][0]["total"] == {"open": 3}

    async def test_moves_between_agents_and_labels_and_leaves_with_a_merge(
        self, accounts: Accounts
    ) -> None:
        await make_labels(accounts, "billing", "urgent")
        main = await open_ticket(accounts.alice)
        duplicate = await open_ticket(accounts.bob)
        await change(accounts.agent, duplicate, tags=["billing", "urgent"])
        for assignee in (accounts.agent, accounts.admin):
            response = await accounts.agent.client.put(
                f"/api/v1/tickets/{duplicate['id']}/assign",
                json={"assignee_id": str(assignee.user.id)},
            )
            assert response.status_code == 200, response.text
        await change(accounts.agent, duplicate, tags=["urgent"])
        day = today()

        async def open_by(split_by: str) -> dict[str, int]:
            found = by_name(await report(accounts.agent, "backlog", day, day, split_by=split_by))
            return {name: s["total"]["open"] for name, s in found.items()}

        agent, admin = accounts.agent.user.name, accounts.admin.user.name
        # The agent held it for a while today: a series, with nothing left at the end.
        assert await open_by("agent") == {"Unassigned": 1, agent: 0, admin: 1}
        assert await open_by("label") == {"No label": 1, "billing": 0, "urgent": 1}
        merged = await accounts.agent.client.post(
            f"/api/v1/tickets/{duplicate['id']}/merge", json={"into": str(main["number"])}
        )
        assert merged.status_code == 201, merged.text
        assert await open_by("agent") == {"Unassigned": 1, agent: 0, admin: 0}
        found = await report(accounts.agent, "backlog", day, day)
        assert found["series"][0]["total"] == {"open": 1}
        unmerged = await accounts.agent.client.delete(f"/api/v1/tickets/{duplicate['id']}/merge")
        assert unmerged.status_code in (200, 204), unmerged.text
        assert await open_by("agent") == {"Unassigned": 1, agent: 0, admin: 1}


class TestDurations:
    async def test_first_response_and_resolution_around_the_clock_without_a_policy(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await open_ticket(accounts.alice, priority="low")
        await conn.execute(
            "update tickets set created_at = now() - interval '3 hours' where id = %s",
            (ticket["id"],),
        )
        await reply(accounts.agent, ticket, internal=True)  # a note is no response
        await reply(accounts.alice, ticket)  # nor is the submitter's reply
        await reply(accounts.agent, ticket)
        await reply(accounts.agent, ticket)  # only the first counts
        await change(accounts.agent, ticket, status="resolved")
        day = today()
        first_of_month = day.replace(day=1)
        end_of_month = (first_of_month + timedelta(days=31)).replace(day=1) - timedelta(days=1)
        monday = day - timedelta(days=day.weekday())
        # Today alone, its whole week and its whole month: each kept as it happened.
        for start, end, interval in (
            (day, day, "day"),
            (monday, monday + timedelta(days=6), "week"),
            (first_of_month, end_of_month, "day"),
        ):
            found = await report(accounts.agent, "durations", start, end, interval=interval)
            [series] = found["series"]
            today_point = [p for p in series["points"] if p["period"] <= day.isoformat()][-1]
            for figures in (series["total"], today_point["values"]):
                assert figures["first_response"]["count"] == 1
                assert figures["resolution"]["count"] == 1
                for figure in ("median_seconds", "p90_seconds"):
                    # Within the sketch's 1 % (and the seconds the test itself takes).
                    assert figures["first_response"][figure] == pytest.approx(3 * 3600, rel=0.012)
                    assert figures["resolution"][figure] == pytest.approx(3 * 3600, rel=0.012)


class TestSla:
    async def test_met_and_missed_targets(self, accounts: Accounts, conn: Connection) -> None:
        await create_policy(accounts.admin)  # high: answer within 60 min, resolve within 240
        met = await open_ticket(accounts.alice, priority="high")
        late = await open_ticket(accounts.alice, priority="high")
        await open_ticket(accounts.alice, priority="low")  # no target
        await reply(accounts.agent, met)
        await change(accounts.agent, met, status="resolved")
        async with conn.transaction():
            await tickets.check_sla_clocks(conn, now=datetime.now(UTC) + timedelta(hours=5))
        # Answered after its breach: decided once, as missed.
        await reply(accounts.agent, late)
        found = await report(accounts.agent, "sla", today(), today(), split_by="priority")
        high = by_name(found)["high"]["total"]
        assert high == {
            "first_response": {"met": 1, "missed": 1, "attainment": 0.5},
            "resolution": {"met": 1, "missed": 1, "attainment": 0.5},
        }
        assert by_name(found)["low"]["total"]["first_response"] == {
            "met": 0,
            "missed": 0,
            "attainment": None,
        }


class TestCsat:
    async def test_ratings_and_a_changed_rating(self, accounts: Accounts, conn: Connection) -> None:
        first = await open_ticket(accounts.alice, type="bug")
        second = await open_ticket(accounts.alice, type="feature")
        third = await open_ticket(accounts.bob, type="feature")
        await rate(conn, accounts.alice, first, "good", None)
        await rate(conn, accounts.alice, second, "good", None)
        await rate(conn, accounts.bob, third, "bad", None)
        await rate(conn, accounts.alice, second, "bad", "good")
        found = await report(accounts.agent, "csat", today(), today())
        assert found["series"][0]["total"] == {"good": 1, "bad": 2, "score": 0.3333}
        by_type = by_name(await report(accounts.agent, "csat", today(), today(), split_by="type"))
        assert by_type["bug"]["total"] == {"good": 1, "bad": 0, "score": 1.0}
        assert by_type["feature"]["total"] == {"good": 0, "bad": 2, "score": 0.0}


class TestInvalidParameters:
    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"to": "2026-01-31"}, "from"),
            ({"from": "2026-01-01"}, "to"),
            ({"from": "2026-02-30", "to": "2026-03-01"}, "from"),
            ({"from": "2026-02-01", "to": "2026-01-31"}, "to"),
            ({"from": "2024-01-01", "to": "2026-01-31"}, "to"),
            ({"from": "2026-01-01", "to": "2026-01-31", "interval": "month"}, "interval"),
            ({"from": "2026-01-01", "to": "2026-01-31", "split_by": "colour"}, "split_by"),
        ],
    )
    async def test_a_422_names_the_field(
        self, accounts: Accounts, params: dict[str, str], field: str
    ) -> None:
        response = await accounts.agent.client.get(f"{REPORTS}/volume", params=params)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["field"] == field

    async def test_two_years_and_a_day_is_the_longest_range(self, accounts: Accounts) -> None:
        response = await accounts.agent.client.get(
            f"{REPORTS}/backlog", params={"from": "2024-01-01", "to": "2025-12-31"}
        )
        assert response.status_code == 200, response.text
        assert len(response.json()["series"]) == 0


class TestConcurrentChanges:
    async def test_a_change_does_not_wait_for_another_ticket_s(
        self, accounts: Accounts, database_url: str
    ) -> None:
        first, second = [await open_ticket(accounts.alice) for _ in range(2)]
        other = await psycopg.AsyncConnection.connect(database_url, row_factory=dict_row)
        async with other, other.transaction():
            # Counted today, in the same rows, but not committed yet.
            await tickets.close_ticket(other, accounts.agent.actor, first["id"], if_match=None)
            closing = accounts.agent.client.delete(f"/api/v1/tickets/{second['id']}/close")
            closed = await asyncio.wait_for(closing, timeout=30)
            assert closed.status_code == 200, closed.text
            found = await report(accounts.agent, "volume", today(), today())
            assert found["series"][0]["total"] == {"created": 2, "resolved": 1}
        found = await report(accounts.agent, "volume", today(), today())
        assert found["series"][0]["total"] == {"created": 2, "resolved": 2}


class TestFolding:
    async def test_the_minutely_job_folds_the_changes_into_the_rollups(
        self, app: FastAPI, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        await reply(accounts.agent, ticket)
        await change(accounts.agent, ticket, status="resolved")
        pending = "select (select count(*) from report_day_changes) as days,"
        pending += " (select count(*) from report_duration_changes) as durations"
        waiting = await (await conn.execute(pending)).fetchone()
        assert waiting is not None
        assert waiting["days"] > 0
        assert waiting["durations"] > 0
        settings: Settings = app.state.settings
        context = JobContext(
            app=create_queue(settings),
            job=Job(
                id=1,
                queue="default",
                lock=None,
                queueing_lock=None,
                task_name=reports_tasks.FOLD_TASK,
                task_kwargs={"timestamp": int(time.time())},
            ),
            start_timestamp=time.time(),
            abort_reason=lambda: None,
            additional_context={ENV_KEY: JobEnv(settings=settings, pool=app.state.pool)},
        )

        await reports_tasks.fold(context, int(time.time()))

        assert await (await conn.execute(pending)).fetchone() == {"days": 0, "durations": 0}
        rows = await conn.execute(
            "select created, resolved from report_days where dimension = 'all' and day = %s",
            (today(),),
        )
        assert await rows.fetchall() == [{"created": 1, "resolved": 1}]
        durations = await conn.execute(
            "select period, count from report_durations"
            " where dimension = 'all' and metric = 'resolution' order by period"
        )
        assert await durations.fetchall() == [
            {"period": "day", "count": 1},
            {"period": "month", "count": 1},
            {"period": "week", "count": 1},
        ]
        found = await report(accounts.agent, "volume", today(), today())
        assert found["series"][0]["total"] == {"created": 1, "resolved": 1}
        assert PERIODIC[reports_tasks.FOLD_TASK] == "* * * * *"
