"""A fixed small data set, its history set to known instants, rebuilt and read back.

The calendar is 09:00-17:00 Monday to Friday in UTC. Hand-computed:

- T1 high bug, labels a and b: opened Fri 13 Nov 16:00, answered Mon 16 09:30
  (1 h Friday + 0.5 h Monday = 5,400 s), resolved Mon 15:00 (1 h + 6 h = 25,200 s);
  both targets (2 h, 8 h) met. Rated good on Mon 16.
- T2 high feature, label a: opened Mon 16 09:00, the first response breached at 11:00,
  answered 13:00 (14,400 s), the resolution breached at 17:00, resolved Tue 17 17:00
  (8 h + 8 h = 57,600 s). Rated bad on Tue 17.
- T3 low support, no policy (around the clock): opened Tue 17 10:00, answered 10:30
  (1,800 s), still open.
- T4 low bug, no policy: opened Sat 14 12:00, closed Sun 15 12:00 (86,400 s).
"""

import asyncio
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.factories import Accounts
from tests.reports.support import (
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
from ticketdesk.comments import service as comments
from ticketdesk.db import Connection
from ticketdesk.reports import service as reports
from ticketdesk.tickets import access
from ticketdesk.tickets import service as tickets

NINE_TO_FIVE = {
    "time_zone": "UTC",
    "week": {
        day: [{"start": "09:00", "end": "17:00"}] for day in ("mon", "tue", "wed", "thu", "fri")
    },
}
START, END = date(2026, 11, 13), date(2026, 11, 17)


async def _set(conn: Connection, query: str, *params: Any) -> None:
    await conn.execute(query, params)


@pytest.fixture
async def data_set(accounts: Accounts, conn: Connection) -> None:
    await create_policy(
        accounts.admin,
        calendar=NINE_TO_FIVE,
        targets=[{"priority": "high", "first_response_minutes": 120, "resolution_minutes": 480}],
    )
    await make_labels(accounts, "a", "b")
    t1 = await open_ticket(accounts.alice, type="bug", priority="high")
    t2 = await open_ticket(accounts.alice, type="feature", priority="high")
    t3 = await open_ticket(accounts.bob, type="support", priority="low")
    t4 = await open_ticket(accounts.bob, type="bug", priority="low")
    await change(accounts.agent, t1, tags=["a", "b"])
    await change(accounts.agent, t2, tags=["a"])
    for ticket in (t1, t2, t3):
        await reply(accounts.agent, ticket)
    await change(accounts.agent, t1, status="resolved")
    await change(accounts.agent, t2, status="resolved")
    await change(accounts.agent, t4, status="closed")
    await rate(conn, accounts.alice, t1, "good", None)
    await rate(conn, accounts.alice, t2, "good", None)
    await rate(conn, accounts.alice, t2, "bad", "good")
    # The history, at the instants above.
    for ticket, created, replied, done in (
        (t1, "2026-11-13 16:00", "2026-11-16 09:30", "2026-11-16 15:00"),
        (t2, "2026-11-16 09:00", "2026-11-16 13:00", "2026-11-17 17:00"),
        (t3, "2026-11-17 10:00", "2026-11-17 10:30", None),
        (t4, "2026-11-14 12:00", None, "2026-11-15 12:00"),
    ):
        await _set(
            conn,
            "update tickets set created_at = %s::timestamptz, resolved_at = %s::timestamptz,"
            " closed_at = %s::timestamptz where id = %s",
            f"{created}Z",
            done and f"{done}Z",
            done and f"{done}Z",
            ticket["id"],
        )
        if replied:
            await _set(
                conn,
                "update comments set created_at = %s::timestamptz where ticket_id = %s",
                f"{replied}Z",
                ticket["id"],
            )
    await _set(
        conn,
        "update ticket_slas set first_response_breached_at = '2026-11-16 11:00Z',"
        " resolution_breached_at = '2026-11-16 17:00Z' where ticket_id = %s",
        t2["id"],
    )
    await _set(
        conn,
        "update ticket_slas set first_response_breached_at = null,"
        " resolution_breached_at = null where ticket_id = %s",
        t1["id"],
    )
    for ticket, at in ((t1, "2026-11-16 16:00Z"), (t2, "2026-11-17 18:00Z")):
        await _set(
            conn,
            "update ticket_events set created_at = %s::timestamptz"
            " where ticket_id = %s and kind = 'rated'",
            at,
            ticket["id"],
        )
    async with conn.transaction():
        assert await reports.rebuild(conn) == 4


@pytest.mark.usefixtures("data_set")
class TestRebuiltReports:
    async def test_volume_per_day_and_per_week(self, accounts: Accounts) -> None:
        [daily] = (await report(accounts.agent, "volume", START, END))["series"]
        assert points(daily, "created") == [1, 1, 0, 1, 1]
        assert points(daily, "resolved") == [0, 0, 1, 1, 1]
        [weekly] = (await report(accounts.agent, "volume", START, END, interval="week"))["series"]
        assert [p["period"] for p in weekly["points"]] == ["2026-11-13", "2026-11-16"]
        assert points(weekly, "created") == [2, 2]
        assert points(weekly, "resolved") == [1, 2]

    async def test_backlog(self, accounts: Accounts) -> None:
        [series] = (await report(accounts.agent, "backlog", START, END))["series"]
        assert points(series, "open") == [1, 2, 1, 1, 1]
        [later] = (await report(accounts.agent, "backlog", date(2026, 11, 20), date(2026, 11, 20)))[
            "series"
        ]
        assert later["total"] == {"open": 1}

    async def test_business_hours_durations(self, accounts: Accounts) -> None:
        [series] = (await report(accounts.agent, "durations", START, END))["series"]
        monday = series["points"][3]["values"]
        assert monday["first_response"]["count"] == 2
        # Nearest rank: of two, the median is the smaller.
        assert monday["first_response"]["median_seconds"] == pytest.approx(5400, rel=0.01)
        assert monday["first_response"]["p90_seconds"] == pytest.approx(14400, rel=0.01)
        assert monday["resolution"]["median_seconds"] == pytest.approx(25200, rel=0.01)
        total = series["total"]
        assert total["first_response"]["count"] == 3
        assert total["first_response"]["median_seconds"] == pytest.approx(5400, rel=0.01)
        assert total["first_response"]["p90_seconds"] == pytest.approx(14400, rel=0.01)
        assert total["resolution"]["count"] == 3
        assert total["resolution"]["median_seconds"] == pytest.approx(57600, rel=0.01)
        assert total["resolution"]["p90_seconds"] == pytest.approx(86400, rel=0.01)

    async def test_durations_read_the_same_from_days_weeks_or_a_month(
        self, accounts: Accounts
    ) -> None:
        # First responses 1,800, 5,400 and 14,400 s; resolutions 25,200, 57,600, 86,400 s.
        expected = {
            "first_response": {"count": 3, "median_seconds": 5400, "p90_seconds": 14400},
            "resolution": {"count": 3, "median_seconds": 57600, "p90_seconds": 86400},
        }
        # Days only; whole weeks (Mon 9 to Sun 22); November as a whole month.
        ranges = [
            (START, END),
            (date(2026, 11, 9), date(2026, 11, 22)),
            (date(2026, 11, 1), date(2026, 11, 30)),
        ]
        for start, end in ranges:
            [series] = (await report(accounts.agent, "durations", start, end))["series"]
            for metric, figures in expected.items():
                found = series["total"][metric]
                assert found["count"] == figures["count"], (start, end)
                for name in ("median_seconds", "p90_seconds"):
                    assert found[name] == pytest.approx(figures[name], rel=0.01), (start, end)

    async def test_durations_per_week_whole_and_cut_by_the_range(self, accounts: Accounts) -> None:
        [month] = (
            await report(
                accounts.agent, "durations", date(2026, 11, 1), date(2026, 11, 30), interval="week"
            )
        )["series"]
        weeks = {p["period"]: p["values"] for p in month["points"]}
        assert list(weeks) == [
            "2026-11-01",
            "2026-11-02",
            "2026-11-09",
            "2026-11-16",
            "2026-11-23",
            "2026-11-30",
        ]
        assert weeks["2026-11-09"]["first_response"]["count"] == 0
        assert weeks["2026-11-09"]["resolution"]["count"] == 1
        assert weeks["2026-11-09"]["resolution"]["median_seconds"] == pytest.approx(86400, rel=0.01)
        week = weeks["2026-11-16"]
        assert week["first_response"]["count"] == 3
        assert week["first_response"]["median_seconds"] == pytest.approx(5400, rel=0.01)
        assert week["resolution"]["count"] == 2
        assert week["resolution"]["median_seconds"] == pytest.approx(25200, rel=0.01)
        assert week["resolution"]["p90_seconds"] == pytest.approx(57600, rel=0.01)
        # Wednesday 11 to Tuesday 17: two weeks, each cut short by the range.
        [cut] = (
            await report(accounts.agent, "durations", date(2026, 11, 11), END, interval="week")
        )["series"]
        assert [p["period"] for p in cut["points"]] == ["2026-11-11", "2026-11-16"]
        assert points(cut, "resolution", "count") == [1, 2]
        assert points(cut, "first_response", "count") == [0, 3]
        assert cut["points"][1]["values"]["first_response"]["p90_seconds"] == pytest.approx(
            14400, rel=0.01
        )

    async def test_sla_attainment(self, accounts: Accounts) -> None:
        found = await report(accounts.agent, "sla", START, END, split_by="type")
        series = by_name(found)
        assert series["bug"]["total"] == {
            "first_response": {"met": 1, "missed": 0, "attainment": 1.0},
            "resolution": {"met": 1, "missed": 0, "attainment": 1.0},
        }
        assert series["feature"]["total"] == {
            "first_response": {"met": 0, "missed": 1, "attainment": 0.0},
            "resolution": {"met": 0, "missed": 1, "attainment": 0.0},
        }
        # All decided on Monday the 16th.
        [whole] = (await report(accounts.agent, "sla", START, END))["series"]
        assert points(whole, "first_response", "met") == [0, 0, 0, 1, 0]
        assert points(whole, "resolution", "missed") == [0, 0, 0, 1, 0]

    async def test_csat_by_label(self, accounts: Accounts) -> None:
        found = by_name(await report(accounts.agent, "csat", START, END, split_by="label"))
        assert {name: s["total"] for name, s in found.items()} == {
            "a": {"good": 1, "bad": 1, "score": 0.5},
            "b": {"good": 1, "bad": 0, "score": 1.0},
            "No label": {"good": 0, "bad": 0, "score": None},
        }

    async def test_split_by_priority_and_label(self, accounts: Accounts) -> None:
        found = by_name(await report(accounts.agent, "volume", START, END, split_by="priority"))
        assert {n: s["total"]["created"] for n, s in found.items()} == {"high": 2, "low": 2}
        found = by_name(await report(accounts.agent, "volume", START, END, split_by="label"))
        assert {n: s["total"]["created"] for n, s in found.items()} == {
            "a": 2,
            "b": 1,
            "No label": 2,
        }

    async def test_a_day_split_at_another_zone_s_midnight(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        async with conn.transaction():
            await reports.rebuild(conn, zone="Pacific/Auckland")  # UTC+13 in November
        found = await report(accounts.agent, "volume", START, date(2026, 11, 18))
        assert found["time_zone"] == "Pacific/Auckland"
        # Opened Fri 16:00Z = Sat 05:00, Sat 12:00Z = Sun 01:00, Mon 09:00Z = Mon 22:00,
        # Tue 10:00Z = Tue 23:00 in Auckland: nothing on Friday, one each day after.
        assert points(found["series"][0], "created") == [0, 1, 1, 1, 1, 0]


class TestRebuildAgreesWithTheLiveCounting:
    async def test_every_report_and_split_reads_the_same_after_a_rebuild(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        await make_labels(accounts, "billing", "urgent")
        first = await open_ticket(accounts.alice)
        await change(accounts.agent, first, tags=["billing"])
        second = await open_ticket(accounts.bob, priority="high")
        third = await open_ticket(accounts.alice)
        await reply(accounts.agent, first)
        await reply(accounts.agent, second, internal=True)
        response = await accounts.agent.client.put(
            f"/api/v1/tickets/{second['id']}/assign",
            json={"assignee_id": str(accounts.agent.user.id)},
        )
        assert response.status_code == 200, response.text
        await change(accounts.agent, second, tags=["urgent", "billing"])
        await change(accounts.agent, first, status="resolved")
        await rate(conn, accounts.alice, first, "bad", None)
        await rate(conn, accounts.alice, first, "good", "bad")
        merged = await accounts.agent.client.post(
            f"/api/v1/tickets/{third['id']}/merge", json={"into": str(second["number"])}
        )
        assert merged.status_code == 201, merged.text
        day = today()

        async def every_report() -> dict[tuple[str, str], Any]:
            return {
                (name, split): await report(
                    accounts.agent, name, day, day, **({"split_by": split} if split else {})
                )
                for name in ("volume", "backlog", "durations", "sla", "csat")
                for split in ("", "team", "agent", "type", "priority", "label")
            }

        live = await every_report()
        # The merged duplicate is closed by the merge: a resolution too.
        assert live[("volume", "")]["series"][0]["total"] == {"created": 3, "resolved": 2}
        async with conn.transaction():
            assert await reports.rebuild(conn) == 3
        rebuilt = await every_report()
        # A rebuild counts each creation where the ticket is now; the live counting, where
        # it was when created (README, Reports): the tickets labelled and assigned later
        # moved. Everything else reads the same.
        moved = {("volume", "agent"), ("volume", "label")}
        assert {k: v for k, v in rebuilt.items() if k not in moved} == {
            k: v for k, v in live.items() if k not in moved
        }
        for key in moved:
            assert {s["name"]: s["total"]["resolved"] for s in rebuilt[key]["series"]} == {
                s["name"]: s["total"]["resolved"] for s in live[key]["series"]
            }


class TestRebuildWithChangesUnderWay:
    async def test_a_rebuild_waits_for_a_transaction_that_changes_twice(
        self, accounts: Accounts, database_url: str
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        changing = await psycopg.AsyncConnection.connect(database_url, row_factory=dict_row)
        rebuilding = await psycopg.AsyncConnection.connect(database_url, row_factory=dict_row)

        async def rebuild() -> int:
            async with rebuilding.transaction():
                return await reports.rebuild(rebuilding)

        async with changing, rebuilding:
            async with changing.transaction():
                # The first reply adds a first-response duration (no day's counts) ...
                found = await access.get_visible_ticket(
                    changing, accounts.agent.actor, ticket["id"], for_update=True
                )
                await comments.add_comment(
                    changing,
                    accounts.agent.actor,
                    found,
                    "Fixed in the next release.",
                    is_internal=False,
                    reopen_window=timedelta(days=7),
                )
                rebuilt = asyncio.create_task(rebuild())
                await asyncio.sleep(0.5)  # the rebuild is waiting for its locks by now
                # ... and closing it adds to the day's counts, in the same transaction.
                await tickets.close_ticket(
                    changing, accounts.agent.actor, ticket["id"], if_match=None
                )
            assert await asyncio.wait_for(rebuilt, timeout=30) == 1
        day = today()
        [series] = (await report(accounts.agent, "volume", day, day))["series"]
        assert series["total"] == {"created": 1, "resolved": 1}
        [series] = (await report(accounts.agent, "durations", day, day))["series"]
        assert series["total"]["first_response"]["count"] == 1
