"""A ticket's SLA clocks through the API: which policy applies, the first reply, waiting,
re-targeting, the timed job turning targets at risk and breached, and lists sorted and
filtered by it."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from tests.factories import Accounts
from tests.notifications.support import comment, open_ticket, set_status
from tests.sla.support import clocks_of, create_policy, ticket_as
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.sla import service as sla
from ticketdesk.tickets import listing
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.schemas import TicketFilters

LIST = "/api/v1/tickets"


def at(value: str | None) -> datetime:
    assert value is not None
    return datetime.fromisoformat(value)


async def run_job(conn: Connection, now: datetime) -> int:
    """One run of the timed job's work, at ``now``."""
    async with conn.transaction():
        return await tickets.check_sla_clocks(conn, now=now)


async def events(accounts: Accounts, ticket: dict[str, Any], person: str = "agent") -> list[str]:
    response = await getattr(accounts, person).client.get(f"/api/v1/tickets/{ticket['id']}/events")
    assert response.status_code == 200, response.text
    return [event["kind"] for event in response.json()["items"]]


class TestWhichPolicy:
    async def test_tickets_opened_before_any_policy_have_none(self, accounts: Accounts) -> None:
        before = await open_ticket(accounts.alice, priority="high")
        await create_policy(accounts.admin)
        after = await open_ticket(accounts.alice, priority="high")
        low = await open_ticket(accounts.alice, priority="low")

        assert (await ticket_as(accounts.agent, before))["sla_state"] is None
        assert await clocks_of(accounts.agent, before) is None
        assert (await ticket_as(accounts.agent, low))["sla_state"] is None
        seen = await ticket_as(accounts.agent, after)
        assert seen["sla_state"] == "ok"
        assert at(seen["sla_due_at"]) == at(seen["created_at"]) + timedelta(minutes=60)
        clocks = await clocks_of(accounts.agent, after)
        assert clocks is not None
        assert clocks["policy_name"] == "Round the clock"
        assert at(clocks["resolution_due_at"]) == at(seen["created_at"]) + timedelta(hours=4)

    async def test_the_first_matching_policy_in_order_applies(self, accounts: Accounts) -> None:
        await create_policy(accounts.admin, name="Everyone", position=20)
        await create_policy(
            accounts.admin,
            name="Bugs",
            position=10,
            ticket_type="bug",
            targets=[{"priority": "high", "first_response_minutes": 15}],
        )
        bug = await open_ticket(accounts.alice, priority="high", type="bug")
        question = await open_ticket(accounts.alice, priority="high", type="support")

        bug_clocks = await clocks_of(accounts.agent, bug)
        question_clocks = await clocks_of(accounts.agent, question)
        assert bug_clocks is not None
        assert question_clocks is not None
        assert (bug_clocks["policy_name"], bug_clocks["first_response_minutes"]) == ("Bugs", 15)
        assert bug_clocks["resolution_due_at"] is None
        assert question_clocks["policy_name"] == "Everyone"

    async def test_a_label_narrows_a_policy_and_relabelling_re_targets(
        self, accounts: Accounts
    ) -> None:
        made = await accounts.admin.client.post("/api/v1/labels", json={"name": "VIP"})
        assert made.status_code == 201, made.text
        await create_policy(
            accounts.admin,
            name="VIP",
            label="vip",
            targets=[{"priority": "medium", "first_response_minutes": 30}],
        )
        ticket = await open_ticket(accounts.alice, priority="medium")
        assert (await ticket_as(accounts.agent, ticket))["sla_state"] is None

        labelled = await accounts.agent.client.put(f"{LIST}/{ticket['id']}", json={"tags": ["VIP"]})
        assert labelled.status_code == 200, labelled.text
        assert labelled.json()["sla_state"] == "ok"
        clocks = await clocks_of(accounts.agent, ticket)
        assert clocks is not None
        assert (clocks["policy_name"], clocks["first_response_minutes"]) == ("VIP", 30)

        unlabelled = await accounts.agent.client.put(f"{LIST}/{ticket['id']}", json={"tags": []})
        assert unlabelled.json()["sla_state"] is None

    async def test_a_renamed_label_keeps_its_policy_and_its_tickets_their_clocks(
        self, accounts: Accounts
    ) -> None:
        made = await accounts.admin.client.post("/api/v1/labels", json={"name": "VIP"})
        assert made.status_code == 201, made.text
        policy = await create_policy(
            accounts.admin,
            name="VIP",
            label="vip",
            targets=[{"priority": "medium", "first_response_minutes": 30}],
        )
        ticket = await open_ticket(accounts.alice, priority="medium")
        labelled = await accounts.agent.client.put(f"{LIST}/{ticket['id']}", json={"tags": ["VIP"]})
        assert labelled.json()["sla_state"] == "ok"
        due = labelled.json()["sla_due_at"]

        renamed = await accounts.admin.client.patch(
            f"/api/v1/labels/{made.json()['id']}", json={"name": "Key account"}
        )
        assert renamed.status_code == 200, renamed.text

        found = await accounts.agent.client.get(f"/api/v1/sla-policies/{policy['id']}")
        assert found.json()["label"] == "Key account"
        seen = await ticket_as(accounts.agent, ticket)
        assert seen["tags"] == ["Key account"]
        assert (seen["sla_state"], seen["sla_due_at"]) == ("ok", due)

    async def test_submitters_never_see_it(self, accounts: Accounts) -> None:
        await create_policy(accounts.admin)
        ticket = await open_ticket(accounts.alice, priority="high")

        seen = await ticket_as(accounts.alice, ticket)
        assert (seen["sla_state"], seen["sla_due_at"]) == (None, None)
        listed = (await accounts.alice.client.get(LIST)).json()["items"]
        assert (listed[0]["sla_state"], listed[0]["sla_due_at"]) == (None, None)
        assert (await accounts.alice.client.get(f"{LIST}/{ticket['id']}/sla")).status_code == 403
        for params in ({"sort": "sla_due"}, {"sla": "ok"}):
            refused = await accounts.alice.client.get(LIST, params=params)
            assert refused.status_code == 403
            assert refused.json()["field"] == next(iter(params))


class TestPolicyDeletedMeanwhile:
    async def test_a_ticket_targeted_while_its_policy_is_deleted_takes_none(
        self, accounts: Accounts, database_url: str
    ) -> None:
        ticket = await open_ticket(accounts.alice, priority="high")
        policy = await create_policy(accounts.admin)
        facts = sla.TicketFacts(
            ticket_id=UUID(ticket["id"]),
            ticket_type=ticket["type"],
            priority="high",
            tags=[],
            status="open",
        )
        async with (
            await psycopg.AsyncConnection.connect(database_url) as deleting,
            await psycopg.AsyncConnection.connect(database_url, row_factory=dict_row) as targeting,
        ):
            # An admin's delete, not yet committed: targeting still reads the policy.
            await deleting.execute("delete from sla_policies where id = %s", (policy["id"],))
            async with targeting.transaction():
                pending = asyncio.ensure_future(sla.target(targeting, facts, now=datetime.now(UTC)))
                await asyncio.sleep(0.5)
                assert not pending.done()
                await deleting.commit()
                # No foreign-key error: it chooses among the policies left, none.
                assert await pending is None
        assert await clocks_of(accounts.agent, ticket) is None


class TestClocks:
    async def test_a_first_public_staff_reply_meets_the_first_response(
        self, accounts: Accounts
    ) -> None:
        await create_policy(accounts.admin)
        ticket = await open_ticket(accounts.alice, priority="high")
        created = at(ticket["created_at"])

        await comment(accounts.agent, ticket, "Looking at it.", internal=True)
        assert at((await ticket_as(accounts.agent, ticket))["sla_due_at"]) == created + timedelta(
            minutes=60
        )
        await comment(accounts.alice, ticket, "Any news on this one?")
        assert at((await ticket_as(accounts.agent, ticket))["sla_due_at"]) == created + timedelta(
            minutes=60
        )

        await comment(accounts.agent, ticket, "We are on it.")

        seen = await ticket_as(accounts.agent, ticket)
        assert seen["sla_state"] == "ok"
        assert at(seen["sla_due_at"]) == created + timedelta(hours=4)
        clocks = await clocks_of(accounts.agent, ticket)
        assert clocks is not None
        assert clocks["first_responded_at"] is not None

    async def test_waiting_stops_the_clock_and_moves_the_due_time(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        await create_policy(accounts.admin)
        ticket = await open_ticket(accounts.alice, priority="high")
        await comment(accounts.agent, ticket, "Which version do you run?")
        await set_status(accounts.agent, ticket, "in_progress")
        await set_status(accounts.agent, ticket, "waiting")

        waiting = await ticket_as(accounts.agent, ticket)
        assert (waiting["sla_state"], waiting["sla_due_at"]) == ("ok", None)
        clocks = await clocks_of(accounts.agent, ticket)
        assert clocks is not None
        assert clocks["paused"] is True
        # Nothing for the timed job to look at while the clock stands still.
        assert await run_job(conn, datetime.now(UTC) + timedelta(days=30)) == 0
        # Say the ticket opened three hours ago and has waited for the last 90 minutes:
        # 90 of its 240 minutes are used, and those 90 do not count.
        await conn.execute(
            "update ticket_slas set started_at = now() - interval '3 hours',"
            " pauses = jsonb_build_array(jsonb_build_array("
            " to_jsonb(now() - interval '90 minutes'), null)) where ticket_id = %s",
            (ticket["id"],),
        )

        await comment(accounts.alice, ticket, "Version 4.2, on Linux.")

        back = await ticket_as(accounts.agent, ticket)
        assert back["status"] == "in_progress"
        due = at(back["sla_due_at"])
        expected = datetime.now(UTC) + timedelta(minutes=150)
        assert abs(due - expected) < timedelta(seconds=30)
        resumed = await clocks_of(accounts.agent, ticket)
        assert resumed is not None
        assert resumed["paused"] is False

    async def test_resolving_meets_the_resolution(self, accounts: Accounts) -> None:
        await create_policy(accounts.admin)
        ticket = await open_ticket(accounts.alice, priority="high")
        await comment(accounts.agent, ticket, "Fixed in 4.3.")
        await set_status(accounts.agent, ticket, "in_progress")
        await set_status(accounts.agent, ticket, "resolved")

        seen = await ticket_as(accounts.agent, ticket)
        assert (seen["sla_state"], seen["sla_due_at"]) == ("ok", None)

    async def test_a_priority_change_re_targets(self, accounts: Accounts) -> None:
        await create_policy(
            accounts.admin,
            targets=[
                {"priority": "high", "first_response_minutes": 60},
                {"priority": "critical", "first_response_minutes": 15},
            ],
        )
        ticket = await open_ticket(accounts.alice, priority="medium")
        assert (await ticket_as(accounts.agent, ticket))["sla_state"] is None

        raised = await accounts.agent.client.put(
            f"{LIST}/{ticket['id']}", json={"priority": "high"}
        )
        assert raised.status_code == 200, raised.text
        gained = at(raised.json()["sla_due_at"])
        assert raised.json()["sla_state"] == "ok"
        # Clocks gained on a change start at the change.
        assert gained > at(ticket["created_at"]) + timedelta(minutes=59)

        critical = await accounts.agent.client.put(
            f"{LIST}/{ticket['id']}", json={"priority": "critical"}
        )
        assert at(critical.json()["sla_due_at"]) == gained - timedelta(minutes=45)

        lowered = await accounts.agent.client.put(
            f"{LIST}/{ticket['id']}", json={"priority": "low"}
        )
        assert (lowered.json()["sla_state"], lowered.json()["sla_due_at"]) == (None, None)
        assert await clocks_of(accounts.agent, ticket) is None

    async def test_clocks_gained_after_a_staff_reply_count_it_as_the_first_response(
        self, accounts: Accounts
    ) -> None:
        await create_policy(accounts.admin)
        ticket = await open_ticket(accounts.alice, priority="medium")
        await comment(accounts.agent, ticket, "Noted, looking into it.")

        raised = await accounts.agent.client.put(
            f"{LIST}/{ticket['id']}", json={"priority": "high"}
        )
        assert raised.status_code == 200, raised.text
        clocks = await clocks_of(accounts.agent, ticket)
        assert clocks is not None
        assert clocks["first_responded_at"] is not None
        # Only the resolution is still due, four hours from the change.
        assert at(raised.json()["sla_due_at"]) == at(clocks["resolution_due_at"])
        assert at(clocks["resolution_due_at"]) == at(clocks["started_at"]) + timedelta(hours=4)


class TestTimedJob:
    async def test_at_risk_at_75_percent_then_breached_once(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        await create_policy(accounts.admin)
        ticket = await open_ticket(accounts.alice, priority="high")
        created = at(ticket["created_at"])

        assert await run_job(conn, created + timedelta(minutes=44)) == 0
        assert await run_job(conn, created + timedelta(minutes=46)) == 1
        assert (await ticket_as(accounts.agent, ticket))["sla_state"] == "at_risk"
        assert "sla_breached" not in await events(accounts, ticket)

        assert await run_job(conn, created + timedelta(minutes=61)) == 1
        assert await run_job(conn, created + timedelta(minutes=62)) == 0
        seen = await ticket_as(accounts.agent, ticket)
        assert seen["sla_state"] == "breached"
        assert at(seen["sla_due_at"]) == created + timedelta(minutes=60)  # overdue
        assert (await events(accounts, ticket)).count("sla_breached") == 1
        assert "sla_breached" not in await events(accounts, ticket, "alice")

        # The late answer does not take the breach back; the resolution clock runs on.
        await comment(accounts.agent, ticket, "Sorry for the wait.")
        seen = await ticket_as(accounts.agent, ticket)
        assert seen["sla_state"] == "breached"
        assert at(seen["sla_due_at"]) == created + timedelta(hours=4)
        assert await run_job(conn, created + timedelta(hours=4, minutes=1)) == 1
        kinds = await events(accounts, ticket)
        assert kinds.count("sla_breached") == 2


class TestLists:
    async def test_sorted_by_due_time_and_filtered_by_state(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        await create_policy(
            accounts.admin,
            targets=[
                {"priority": "high", "first_response_minutes": 60},
                {"priority": "critical", "first_response_minutes": 15},
            ],
        )
        none = await open_ticket(accounts.alice, priority="low")
        high = await open_ticket(accounts.alice, priority="high")
        critical = await open_ticket(accounts.alice, priority="critical")
        answered = await open_ticket(accounts.alice, priority="critical")
        await comment(accounts.agent, answered, "On it.")
        await run_job(conn, at(critical["created_at"]) + timedelta(minutes=20))

        async def order(**params: Any) -> list[str]:
            ids: list[str] = []
            cursor = None
            while True:
                page = await accounts.agent.client.get(
                    LIST, params={**params, "limit": 1, **({"cursor": cursor} if cursor else {})}
                )
                assert page.status_code == 200, page.text
                ids += [t["id"] for t in page.json()["items"]]
                if (cursor := page.json()["next_cursor"]) is None:
                    return ids

        expected = [critical["id"], high["id"], *sorted([none["id"], answered["id"]])]
        assert await order(sort="sla_due") == expected
        assert await order(sort="-sla_due") == expected[::-1]
        assert await order(sla="breached") == [critical["id"]]
        assert set(await order(sla=["ok", "at_risk"])) == {high["id"], answered["id"]}
        bad = await accounts.agent.client.get(LIST, params={"sla": "late"})
        assert bad.status_code == 422
        assert bad.json()["field"] == "sla"

    async def test_the_sort_and_the_filter_read_their_indexes(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        await conn.execute(
            "insert into tickets (user_id, type, priority, status, title, description,"
            " sla_state, sla_due_at, sla_sort_at)"
            " select %(user_id)s, 'bug', 'medium', 'open', 'Ticket number ' || g,"
            " 'Steps to reproduce ticket number ' || g,"
            " case when g %% 50 = 0 then 'breached' when g %% 10 = 0 then 'ok' end,"
            " case when g %% 10 = 0 then now() + make_interval(mins => g) end,"
            " case when g %% 10 = 0 then now() + make_interval(mins => g)"
            " else '9999-12-31 00:00:00+00' end"
            " from generate_series(1, 20000) g",
            {"user_id": accounts.alice.user.id},
        )
        await conn.execute("analyze tickets")
        agent = accounts.agent.actor
        window = Settings().reopen_window
        for view, sort, index in (
            (TicketFilters(), "sla_due", "tickets_sla_sort_idx"),
            (TicketFilters(sla=["breached"]), "sla_due", "tickets_sla_state_idx"),
            (TicketFilters(sla=["ok", "at_risk"]), "-created", "Index"),
        ):
            first = await listing.list_tickets(
                conn, agent, view, sort=sort, cursor=None, limit=25, reopen_window=window
            )
            assert first.next_cursor is not None
            for cursor in (None, first.next_cursor):
                query, params = listing.listing_query(
                    agent, view, sort=sort, cursor=cursor, limit=25
                )
                cur = await conn.execute(sql.SQL("explain ") + query, params)
                plan = "\n".join(row["QUERY PLAN"] for row in await cur.fetchall())
                assert index in plan, plan
                assert "Seq Scan" not in plan, plan

    async def test_the_timed_job_reads_its_index(
        self, conn: Connection, accounts: Accounts
    ) -> None:
        await conn.execute(
            "insert into tickets (user_id, type, priority, title, description, sla_next_check_at)"
            " select %(user_id)s, 'bug', 'medium', 'Ticket number ' || g,"
            " 'Steps to reproduce ticket number ' || g,"
            " case when g %% 100 = 0 then now() + make_interval(mins => g) end"
            " from generate_series(1, 20000) g",
            {"user_id": accounts.alice.user.id},
        )
        await conn.execute("analyze tickets")
        query = tickets.with_ticket_columns(tickets.Q.sla_due_for_check)
        cur = await conn.execute(
            sql.SQL("explain ") + query, {"now": datetime.now(UTC), "limit": 200}
        )
        plan = "\n".join(row["QUERY PLAN"] for row in await cur.fetchall())
        assert "tickets_sla_next_check_idx" in plan, plan
        assert "Seq Scan" not in plan, plan
