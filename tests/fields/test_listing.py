"""Lists filtered (``cf.<key>=value``) and sorted (``sort=cf.<key>``) by custom fields:
any of the values given, by the field's typed index; sorted with tickets that have no
value last either way, page after page (keyset cursors)."""

from typing import Any

import pytest
from psycopg import sql

from tests.factories import Accounts, Person, ticket_body
from tests.fields.support import define
from ticketdesk.auth.service import Actor
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.tickets import listing
from ticketdesk.tickets.schemas import TicketFilters

TICKETS = "/api/v1/tickets"


async def _open(person: Person, title: str, **fields: Any) -> str:
    body = ticket_body(title=f"Ticket called {title}", custom_fields=fields)
    response = await person.client.post(TICKETS, json=body)
    assert response.status_code == 201, response.text
    return title


def _titles(items: list[dict[str, Any]]) -> list[str]:
    return [item["title"].removeprefix("Ticket called ") for item in items]


async def _list(person: Person, params: list[tuple[str, str]]) -> list[str]:
    response = await person.client.get(TICKETS, params=params)
    assert response.status_code == 200, response.text
    return _titles(response.json()["items"])


async def _pages(person: Person, params: list[tuple[str, str]], limit: int) -> list[str]:
    """Every page of a list, followed by its cursors."""
    seen: list[str] = []
    cursor = None
    while True:
        page_params = [*params, ("limit", str(limit))]
        if cursor:
            page_params.append(("cursor", cursor))
        response = await person.client.get(TICKETS, params=page_params)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += _titles(page["items"])
        if (cursor := page["next_cursor"]) is None:
            return seen


@pytest.fixture
async def tickets(accounts: Accounts) -> None:
    admin, alice = accounts.admin, accounts.alice
    await define(admin, "severity", "select", options=["minor", "major", "critical"])
    await define(admin, "platforms", "multi_select", options=["linux", "mac", "windows"])
    await define(admin, "estimate", "number")
    await define(admin, "due", "date")
    await define(admin, "regression", "checkbox")
    await define(admin, "summary", "text")
    await define(admin, "root_cause", "text", staff_only=True)
    await _open(alice, "one", severity="minor", platforms=["linux"], estimate=3, due="2026-01-05")
    await _open(alice, "two", severity="major", platforms=["mac", "windows"], estimate=1.5)
    await _open(alice, "three", severity="critical", estimate=10, regression=True, summary="b")
    await _open(alice, "four", severity="major", due="2025-12-31", regression=False, summary="a")
    await _open(alice, "five", platforms=["linux", "windows"], estimate=3)
    await _open(alice, "six")


@pytest.mark.usefixtures("tickets")
class TestFilter:
    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ([("cf.severity", "major")], {"two", "four"}),
            ([("cf.severity", "major"), ("cf.severity", "critical")], {"two", "three", "four"}),
            ([("cf.platforms", "windows")], {"two", "five"}),
            ([("cf.platforms", "mac"), ("cf.platforms", "linux")], {"one", "two", "five"}),
            ([("cf.estimate", "3")], {"one", "five"}),
            ([("cf.estimate", "1.5")], {"two"}),
            ([("cf.due", "2025-12-31")], {"four"}),
            ([("cf.regression", "true")], {"three"}),
            ([("cf.regression", "false")], {"four"}),
            ([("cf.summary", "a")], {"four"}),
            # A number's or a date's bounds, inclusive.
            ([("cf.estimate.from", "2"), ("cf.estimate.to", "3")], {"one", "five"}),
            ([("cf.estimate.from", "3")], {"one", "three", "five"}),
            ([("cf.due.to", "2025-12-31")], {"four"}),
            ([("cf.due.from", "2026-01-01")], {"one"}),
            # With other filters, and with each other: all must hold.
            ([("cf.severity", "major"), ("cf.platforms", "mac")], {"two"}),
            ([("cf.estimate", "3"), ("q", "five")], {"five"}),
        ],
    )
    async def test_by_value(
        self, accounts: Accounts, params: list[tuple[str, str]], expected: set[str]
    ) -> None:
        assert set(await _list(accounts.agent, params)) == expected

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("cf.severity", "blocker"),
            ("cf.estimate", "three"),
            ("cf.estimate", "1e3"),
            ("cf.due", "yesterday"),
            ("cf.regression", "yes"),
            ("cf.nonexistent", "x"),
            ("cf.severity.from", "minor"),
            ("cf.estimate.above", "3"),
            ("cf.due.from", "2026"),
        ],
    )
    async def test_a_value_the_field_cannot_hold(
        self, accounts: Accounts, name: str, value: str
    ) -> None:
        response = await accounts.agent.client.get(TICKETS, params={name: value})
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["field"] == name

    async def test_staff_only_fields_are_no_filter_for_submitters(self, accounts: Accounts) -> None:
        response = await accounts.alice.client.get(TICKETS, params={"cf.root_cause": "x"})
        assert response.status_code == 422
        assert response.json()["code"] == "unknown_custom_field"
        response = await accounts.alice.client.get(TICKETS, params={"sort": "cf.root_cause"})
        assert response.status_code == 422
        assert response.json()["field"] == "sort"
        assert (await accounts.agent.client.get(TICKETS, params={"cf.root_cause": "x"})).json()[
            "items"
        ] == []


@pytest.mark.usefixtures("tickets")
class TestSort:
    @pytest.mark.parametrize(
        ("sort", "expected"),
        [
            # Ties by id (the order they were opened in), both ways; no value last.
            ("cf.estimate", ["two", "one", "five", "three", "four", "six"]),
            ("-cf.estimate", ["three", "five", "one", "two", "six", "four"]),
            ("cf.due", ["four", "one", "two", "three", "five", "six"]),
            ("-cf.due", ["one", "four", "six", "five", "three", "two"]),
            # A select in the order of its options.
            ("cf.severity", ["one", "two", "four", "three", "five", "six"]),
            ("-cf.severity", ["three", "four", "two", "one", "six", "five"]),
            ("cf.regression", ["four", "three", "one", "two", "five", "six"]),
            ("-cf.summary", ["three", "four", "six", "five", "two", "one"]),
        ],
    )
    async def test_every_page_in_order(
        self, accounts: Accounts, sort: str, expected: list[str]
    ) -> None:
        assert await _list(accounts.agent, [("sort", sort)]) == expected
        for limit in (1, 2, 4):
            assert await _pages(accounts.agent, [("sort", sort)], limit) == expected

    async def test_with_a_filter(self, accounts: Accounts) -> None:
        params = [("sort", "-cf.estimate"), ("cf.platforms", "linux")]
        assert await _pages(accounts.agent, params, 1) == ["five", "one"]

    async def test_with_the_other_filters(self, accounts: Accounts) -> None:
        # A submitter sees only their own, whichever part of the list a ticket is in.
        await _open(accounts.bob, "bob's", severity="minor", estimate=2)
        await _open(accounts.bob, "bob's bare")
        for sort in ("cf.severity", "-cf.estimate"):
            assert "bob's" not in await _pages(accounts.alice, [("sort", sort)], 2)
            assert set(await _pages(accounts.bob, [("sort", sort)], 1)) == {"bob's", "bob's bare"}
        assert await _pages(accounts.agent, [("sort", "cf.estimate"), ("q", "five")], 1) == ["five"]
        params = [("sort", "-cf.severity"), ("status", "open"), ("cf.platforms", "linux")]
        assert await _pages(accounts.agent, params, 1) == ["one", "five"]
        assert await _pages(accounts.agent, [("sort", "cf.due"), ("status", "closed")], 1) == []

    async def test_a_multi_select_is_no_sort(self, accounts: Accounts) -> None:
        response = await accounts.agent.client.get(TICKETS, params={"sort": "cf.platforms"})
        assert response.status_code == 422
        assert response.json()["code"] == "unsortable_custom_field"
        assert response.json()["field"] == "sort"

    async def test_a_cursor_is_for_its_own_sort(self, accounts: Accounts) -> None:
        first = await accounts.agent.client.get(
            TICKETS, params={"sort": "cf.estimate", "limit": "1"}
        )
        cursor = first.json()["next_cursor"]
        for sort in ("cf.due", "-cf.estimate", "-created"):
            response = await accounts.agent.client.get(
                TICKETS, params={"sort": sort, "cursor": cursor}
            )
            assert response.status_code == 422
            assert response.json()["field"] == "cursor"


MANY_TICKETS = """
insert into tickets (user_id, type, priority, title, description)
select %(user_id)s, 'bug', 'medium', 'Ticket number ' || g, 'Steps to reproduce ticket ' || g
from generate_series(1, %(n)s) g
"""
# Every ticket has a severity, 1 in 500 "critical"; every 7th an estimate.
SEVERITIES = """
insert into ticket_field_values (ticket_id, field_id, text_value)
select id, %(severity)s, case when number %% 500 = 0 then 'critical' else 'minor' end
from tickets
"""
ESTIMATES = """
insert into ticket_field_values (ticket_id, field_id, number_value)
select id, %(estimate)s, number %% 13 from tickets where number %% 7 = 0
"""


async def test_filters_read_the_typed_index(accounts: Accounts, conn: Connection) -> None:
    """The SQL of a filter by a select and by a number, planned over enough tickets that
    the planner has a real choice, reads the field type's index."""
    severity = await define(
        accounts.admin, "severity", "select", options=["minor", "major", "critical"]
    )
    estimate = await define(accounts.admin, "estimate", "number")
    await conn.execute(MANY_TICKETS, {"user_id": accounts.alice.user.id, "n": 20_000})
    await conn.execute(SEVERITIES, {"severity": severity["id"]})
    await conn.execute(ESTIMATES, {"estimate": estimate["id"]})
    await conn.execute("analyze tickets")
    await conn.execute("analyze ticket_field_values")
    agent = accounts.agent.actor
    cases = [
        ({"severity": ["critical"]}, "ticket_field_values_text_idx", 40),
        ({"estimate": ["12"]}, "ticket_field_values_number_idx", 219),
        ({"estimate.from": ["12"]}, "ticket_field_values_number_idx", 219),
    ]
    for raw, index, count in cases:
        filters = TicketFilters(custom_fields=raw)
        page = await listing.list_tickets(
            conn,
            agent,
            filters,
            sort="-created",
            cursor=None,
            limit=100,
            reopen_window=Settings().reopen_window,
        )
        assert len(page.items) == min(count, 100)
        custom = await listing.custom_field_listing(conn, agent, filters, "-created")
        query, params = listing.listing_query(
            agent, filters, sort="-created", cursor=None, limit=25, custom=custom
        )
        cur = await conn.execute(sql.SQL("explain ") + query, params)
        plan = "\n".join(row["QUERY PLAN"] for row in await cur.fetchall())
        assert index in plan, plan


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    """A plan node and every node under it."""
    return [node, *(n for child in node.get("Plans", []) for n in _nodes(child))]


async def _page_read(
    conn: Connection, actor: Actor, sort: str, filters: TicketFilters, cursor: str | None
) -> list[dict[str, Any]]:
    """The plan nodes that ran for a page of 25 of ``sort``, run with EXPLAIN ANALYZE; a
    page that sorted anything fails."""
    custom = await listing.custom_field_listing(conn, actor, filters, sort)
    query, params = listing.listing_query(
        actor, filters, sort=sort, cursor=cursor, limit=25, custom=custom
    )
    cur = await conn.execute(sql.SQL("explain (analyze, format json) ") + query, params)
    row = await cur.fetchone()
    assert row is not None
    [[plan]] = row.values()
    ran = [n for n in _nodes(plan["Plan"]) if n["Actual Loops"] > 0]
    assert not [n for n in ran if "Sort" in n["Node Type"]], plan
    for node in ran:
        if "Relation Name" in node:
            # Each table and index is read about as far as the page shows, no further.
            read = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
            assert read * node["Actual Loops"] <= 200, plan
    return ran


async def _cursor_after(
    conn: Connection, actor: Actor, sort: str, filters: TicketFilters, pages: int, limit: int
) -> str | None:
    """The cursor after ``pages`` pages of ``limit`` tickets of ``sort``."""
    cursor = None
    for _ in range(pages):
        page = await listing.list_tickets(
            conn,
            actor,
            filters,
            sort=sort,
            cursor=cursor,
            limit=limit,
            reopen_window=Settings().reopen_window,
        )
        cursor = page.next_cursor
    return cursor


async def test_a_sort_reads_the_typed_index_in_order(accounts: Accounts, conn: Connection) -> None:
    """Pages sorted by a number and by a select, planned over enough tickets that the
    planner has a real choice, and run: the first page, the second and one 5,000 tickets
    deep each read the field type's index in order, as far as the page shows, sort
    nothing, and never start on the tickets without a value while the values fill the
    page; a page among the tickets without a value reads them by id, as far as it shows."""
    severity = await define(
        accounts.admin, "severity", "select", options=["minor", "major", "critical"]
    )
    estimate = await define(accounts.admin, "estimate", "number")
    await conn.execute(MANY_TICKETS, {"user_id": accounts.alice.user.id, "n": 20_000})
    await conn.execute(SEVERITIES, {"severity": severity["id"]})
    await conn.execute(ESTIMATES, {"estimate": estimate["id"]})
    await conn.execute("analyze tickets")
    await conn.execute("analyze ticket_field_values")
    agent = accounts.agent.actor
    cases = [
        ("cf.estimate", {}, "ticket_field_values_number_idx", 2),
        ("-cf.estimate", {"status": ["open"]}, "ticket_field_values_number_idx", 2),
        ("cf.severity", {}, "ticket_field_values_text_idx", 5),
        ("-cf.severity", {"status": ["open"]}, "ticket_field_values_text_idx", 5),
    ]
    for sort, raw, index, deep in cases:
        filters = TicketFilters(**raw)
        for cursor in (
            None,
            await _cursor_after(conn, agent, sort, filters, 1, 25),
            await _cursor_after(conn, agent, sort, filters, deep, 1000),
        ):
            ran = await _page_read(conn, agent, sort, filters, cursor)
            reads = [n for n in ran if n.get("Index Name") == index]
            assert sum(n["Actual Rows"] for n in reads) == 26, (sort, cursor)
            # The part of the tickets without a value never ran.
            assert not [n for n in ran if n.get("Join Type") == "Anti"], (sort, cursor)
    # 2,857 tickets have an estimate: past them, the rest by id.
    filters = TicketFilters()
    cursor = await _cursor_after(conn, agent, "cf.estimate", filters, 3, 1000)
    ran = await _page_read(conn, agent, "cf.estimate", filters, cursor)
    scans = [n for n in ran if n.get("Relation Name") == "tickets"]
    assert [n["Index Name"] for n in scans] == ["tickets_pkey"]
