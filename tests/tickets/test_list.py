"""GET /api/v1/tickets: filters, search, sorting and keyset pages."""

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from httpx import AsyncClient

from tests.factories import Accounts, create_ticket
from ticketdesk.db import Connection

LIST = "/api/v1/tickets"


@dataclass
class Catalogue:
    """Five tickets that differ in every way the list can filter on, by short name."""

    ids: dict[str, UUID]

    def names(self, items: list[dict[str, Any]]) -> set[str]:
        """The short names of the tickets in a list response."""
        by_id = {str(v): k for k, v in self.ids.items()}
        return {by_id[item["id"]] for item in items}


async def _names(client: AsyncClient, catalogue: Catalogue, **params: Any) -> set[str]:
    response = await client.get(LIST, params=params)
    assert response.status_code == 200, response.text
    return catalogue.names(response.json()["items"])


async def _set_times(conn: Connection, ticket_id: UUID, created: str, updated: str) -> None:
    await conn.execute(
        "update tickets set created_at = %s, updated_at = %s where id = %s",
        (created, updated, ticket_id),
    )


@pytest.fixture
async def catalogue(accounts: Accounts, conn: Connection) -> Catalogue:
    """Alice's a1 to a3 and Bob's b1 and b2, shaped through the API as people would."""
    agent = accounts.agent.client
    for name in ("billing", "ui"):
        await accounts.admin.client.post("/api/v1/labels", json={"name": name})
    a1 = await create_ticket(
        conn,
        accounts.alice,
        type="bug",
        priority="low",
        title="Quarterly spreadsheet download fails",
        metadata={"os": "Linux", "app": "2.4"},
    )
    a2 = await create_ticket(
        conn,
        accounts.alice,
        type="feature",
        priority="high",
        title="Please add a night theme",
        description="A dark mode toggle in the settings would be easier on the eyes.",
        metadata={"os": "macOS"},
    )
    a3 = await create_ticket(
        conn, accounts.alice, type="support", priority="critical", title="Cannot sign in at all"
    )
    b1 = await create_ticket(
        conn,
        accounts.bob,
        type="bug",
        priority="medium",
        title="Report page layout broken",
        metadata={"os": "Linux", "app": "2.5"},
    )
    b2 = await create_ticket(
        conn, accounts.bob, type="feature", priority="medium", title="Keyboard shortcuts, please"
    )
    await agent.put(f"{LIST}/{a2.id}", json={"status": "in_progress", "tags": ["billing"]})
    await agent.put(f"{LIST}/{a2.id}/assign", json={"assignee_id": str(accounts.agent.user.id)})
    await agent.put(f"{LIST}/{a3.id}", json={"status": "in_progress"})
    await agent.put(f"{LIST}/{a3.id}", json={"status": "waiting"})
    await agent.put(f"{LIST}/{a3.id}/assign", json={"assignee_id": str(accounts.admin.user.id)})
    await agent.put(f"{LIST}/{b1.id}", json={"status": "in_progress", "tags": ["billing", "ui"]})
    await accounts.bob.client.post(
        f"{LIST}/{b1.id}/comments", json={"comment": "The invoice PDF renders blank too."}
    )
    await agent.put(f"{LIST}/{b1.id}", json={"status": "resolved"})
    await agent.delete(f"{LIST}/{b2.id}/close")
    await agent.post(
        f"{LIST}/{a3.id}/comments",
        json={"comment": "Customer is on the legacy zebracorn plan.", "is_internal": True},
    )
    for day, ticket in enumerate((a1, a2, a3, b1, b2), start=1):
        await _set_times(conn, ticket.id, f"2025-01-{day:02}T12:00Z", f"2025-02-{day:02}T12:00Z")
    return Catalogue({"a1": a1.id, "a2": a2.id, "a3": a3.id, "b1": b1.id, "b2": b2.id})


class TestListTickets:
    async def test_anonymous(self, anon: AsyncClient) -> None:
        response = await anon.get(LIST)

        assert response.status_code == 401

    async def test_submitter_sees_only_their_own(
        self, accounts: Accounts, catalogue: Catalogue
    ) -> None:
        assert await _names(accounts.alice.client, catalogue) == {"a1", "a2", "a3"}
        assert await _names(accounts.bob.client, catalogue) == {"b1", "b2"}

    async def test_submitter_cannot_filter_their_way_to_others(
        self, accounts: Accounts, catalogue: Catalogue
    ) -> None:
        bob = str(accounts.bob.user.id)

        assert await _names(accounts.alice.client, catalogue, submitter=bob) == set()
        assert await _names(accounts.alice.client, catalogue, q="invoice") == set()

    async def test_staff_see_everything(self, accounts: Accounts, catalogue: Catalogue) -> None:
        everything = {"a1", "a2", "a3", "b1", "b2"}

        assert await _names(accounts.agent.client, catalogue) == everything
        assert await _names(accounts.admin.client, catalogue) == everything

    async def test_items_name_the_people(self, accounts: Accounts, catalogue: Catalogue) -> None:
        response = await accounts.agent.client.get(LIST, params={"assignee": "me"})

        [item] = response.json()["items"]
        assert item["submitter"]["name"] == "Alice Submitter"
        assert item["assigned_to"]["name"] == "Aaron Agent"
        assert "comments" not in item

    async def test_items_offer_their_reader_s_transitions(
        self, accounts: Accounts, catalogue: Catalogue
    ) -> None:
        """What the board offers for each card: the same as the ticket page."""

        async def offered(client: AsyncClient) -> dict[str, list[str]]:
            items = (await client.get(LIST)).json()["items"]
            return {catalogue.names([item]).pop(): item["transitions"] for item in items}

        assert await offered(accounts.agent.client) == {
            "a1": ["in_progress", "waiting", "resolved", "closed"],
            "a2": ["waiting", "resolved", "closed"],
            "a3": ["in_progress", "resolved", "closed"],
            "b1": ["open", "closed"],
            "b2": ["open"],
        }
        assert await offered(accounts.bob.client) == {"b1": ["open", "closed"], "b2": ["open"]}
        assert await offered(accounts.alice.client) == {"a1": [], "a2": [], "a3": []}

    async def test_filters(self, accounts: Accounts, catalogue: Catalogue) -> None:
        linux = json.dumps({"os": "Linux"})
        cases: dict[str, tuple[dict[str, Any], set[str]]] = {
            "one status": ({"status": "open"}, {"a1"}),
            "two statuses": ({"status": ["in_progress", "waiting"]}, {"a2", "a3"}),
            "finished": ({"status": ["resolved", "closed"]}, {"b1", "b2"}),
            "type": ({"type": "bug"}, {"a1", "b1"}),
            "two types": ({"type": ["feature", "support"]}, {"a2", "a3", "b2"}),
            "priority": ({"priority": "medium"}, {"b1", "b2"}),
            "two priorities": ({"priority": ["critical", "high"]}, {"a2", "a3"}),
            "unassigned": ({"assignee": "none"}, {"a1", "b1", "b2"}),
            "tags": ({"tags": "billing"}, {"a2", "b1"}),
            "all of two tags": ({"tags": ["billing", "ui"]}, {"b1"}),
            "tag, the former name": ({"tag": "billing"}, {"a2", "b1"}),
            "metadata": ({"metadata": linux}, {"a1", "b1"}),
            "metadata, two keys": ({"metadata": json.dumps({"os": "Linux", "app": "2.5"})}, {"b1"}),
            "empty metadata": ({"metadata": "{}"}, {"a1", "a2", "a3", "b1", "b2"}),
            "created after": ({"created_after": "2025-01-02T12:00:00Z"}, {"a2", "a3", "b1", "b2"}),
            "created before": ({"created_before": "2025-01-02T12:00:00Z"}, {"a1"}),
            "created between": (
                {"created_after": "2025-01-02T00:00:00Z", "created_before": "2025-01-04T00:00:00Z"},
                {"a2", "a3"},
            ),
            "updated after": ({"updated_after": "2025-02-04T00:00:00Z"}, {"b1", "b2"}),
            "updated before": ({"updated_before": "2025-02-03T00:00:00Z"}, {"a1", "a2"}),
            "nothing matches": ({"status": "open", "type": "feature"}, set()),
            "combined": ({"type": "bug", "metadata": linux, "status": "open"}, {"a1"}),
        }

        found = {
            case: await _names(accounts.agent.client, catalogue, **params)
            for case, (params, _) in cases.items()
        }

        assert found == {case: expected for case, (_, expected) in cases.items()}

    async def test_assignee(self, accounts: Accounts, catalogue: Catalogue) -> None:
        agent = accounts.agent.client

        assert await _names(agent, catalogue, assignee="me") == {"a2"}
        assert await _names(agent, catalogue, assignee=str(accounts.admin.user.id)) == {"a3"}
        assert await _names(accounts.admin.client, catalogue, assignee="me") == {"a3"}

    async def test_submitter(self, accounts: Accounts, catalogue: Catalogue) -> None:
        bob = str(accounts.bob.user.id)

        assert await _names(accounts.agent.client, catalogue, submitter=bob) == {"b1", "b2"}

    async def test_search_as_staff(self, accounts: Accounts, catalogue: Catalogue) -> None:
        cases = {
            "spreadsheet": {"a1"},  # title
            "spreadsheets": {"a1"},  # stemmed
            "dark mode": {"a2"},  # description
            "invoice": {"b1"},  # a public comment
            "zebracorn": {"a3"},  # an internal note: staff search them
            "   ": {"a1", "a2", "a3", "b1", "b2"},
        }

        found = {q: await _names(accounts.agent.client, catalogue, q=q) for q in cases}

        assert found == cases

    async def test_a_submitters_search_never_reads_internal_notes(
        self, accounts: Accounts, catalogue: Catalogue
    ) -> None:
        response = await accounts.alice.client.get(LIST, params={"q": "zebracorn"})

        assert response.json()["items"] == []
        assert "zebracorn" not in response.text
        assert await _names(accounts.admin.client, catalogue, q="zebracorn") == {"a3"}

    async def test_search_as_submitter(self, accounts: Accounts, catalogue: Catalogue) -> None:
        assert await _names(accounts.alice.client, catalogue, q="sign") == {"a3"}
        assert await _names(accounts.bob.client, catalogue, q="invoice") == {"b1"}

    async def test_invalid(self, accounts: Accounts) -> None:
        cases: list[tuple[dict[str, Any], str]] = [
            ({"assignee": "someone"}, "assignee"),
            ({"metadata": "not json"}, "metadata"),
            ({"metadata": "[1, 2]"}, "metadata"),
            ({"status": "pending"}, "status"),
            ({"type": "question"}, "type"),
            ({"priority": ["low", "urgent"]}, "priority"),
            ({"sort": "title"}, "sort"),
            ({"submitter": "bob"}, "submitter"),
            ({"created_after": "yesterday"}, "created_after"),
            ({"created_after": "1735819200"}, "created_after"),
            ({"updated_before": "2025-01-02"}, "updated_before"),
            ({"created_before": "2025-01-02T12:00:00"}, "created_before"),
            ({"limit": 101}, "limit"),
            ({"limit": 0}, "limit"),
            ({"cursor": "bm9wZQ"}, "cursor"),
            ({"cursor": "%%%"}, "cursor"),
            ({"q": "x" * 201}, "q"),
        ]
        found = []
        for params, _ in cases:
            response = await accounts.agent.client.get(LIST, params=params)
            assert response.headers["content-type"] == "application/problem+json", params
            found.append((params, response.status_code, response.json()["field"]))

        assert found == [(params, 422, field) for params, field in cases]


async def _order(client: AsyncClient, sort: str, names: dict[str, UUID]) -> list[str]:
    by_id = {str(v): k for k, v in names.items()}
    response = await client.get(LIST, params={"sort": sort})
    assert response.status_code == 200
    return [by_id[item["id"]] for item in response.json()["items"]]


class TestSorting:
    @pytest.fixture
    async def four(self, accounts: Accounts, conn: Connection) -> dict[str, UUID]:
        """t1 to t4 with created, updated and priority orders that all differ."""
        made = {}
        for name, priority, created, updated in (
            ("t1", "low", "2025-01-01", "2025-01-04"),
            ("t2", "critical", "2025-01-02", "2025-01-03"),
            ("t3", "medium", "2025-01-03", "2025-01-01"),
            ("t4", "critical", "2025-01-04", "2025-01-02"),
        ):
            ticket = await create_ticket(conn, accounts.alice, priority=priority)
            await _set_times(conn, ticket.id, f"{created}T12:00Z", f"{updated}T12:00Z")
            made[name] = ticket.id
        return made

    async def test_each_sort_both_ways(self, accounts: Accounts, four: dict[str, UUID]) -> None:
        expected = {
            "created": ["t1", "t2", "t3", "t4"],
            "-created": ["t4", "t3", "t2", "t1"],
            "updated": ["t3", "t4", "t2", "t1"],
            "-updated": ["t1", "t2", "t4", "t3"],
            "priority": ["t1", "t3", "t2", "t4"],  # low first; ties oldest first
            "-priority": ["t4", "t2", "t3", "t1"],  # critical first; ties newest first
        }

        for person in (accounts.agent, accounts.alice):
            found = {sort: await _order(person.client, sort, four) for sort in expected}
            assert found == expected, person.user.name

    async def test_newest_first_by_default(self, accounts: Accounts, four: dict[str, UUID]) -> None:
        response = await accounts.agent.client.get(LIST)
        assert [item["id"] for item in response.json()["items"]] == [
            str(four[name]) for name in ("t4", "t3", "t2", "t1")
        ]


class TestPagination:
    @pytest.fixture
    async def tied(self, accounts: Accounts, conn: Connection) -> set[str]:
        """Seven tickets sharing one created_at and updated_at, in two priorities."""
        ids = set()
        for n in range(7):
            ticket = await create_ticket(
                conn, accounts.alice, priority="high" if n % 3 == 0 else "low"
            )
            await _set_times(conn, ticket.id, "2025-03-01T09:00Z", "2025-03-02T09:00Z")
            ids.add(str(ticket.id))
        return ids

    async def _walk(self, client: AsyncClient, **params: Any) -> list[str]:
        seen: list[str] = []
        cursor = None
        for _ in range(20):
            response = await client.get(
                LIST, params={**params, **({"cursor": cursor} if cursor else {})}
            )
            assert response.status_code == 200, response.text
            page = response.json()
            assert len(page["items"]) <= params["limit"]
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen
        raise AssertionError("the pages never ended")

    async def test_every_ticket_exactly_once(self, accounts: Accounts, tied: set[str]) -> None:
        for sort in ("created", "-created", "updated", "-updated", "priority", "-priority"):
            whole = await accounts.agent.client.get(LIST, params={"sort": sort, "limit": 100})
            in_one_page = [item["id"] for item in whole.json()["items"]]
            assert set(in_one_page) == tied
            assert whole.json()["next_cursor"] is None

            for limit in (1, 2, 3):
                walked = await self._walk(accounts.agent.client, sort=sort, limit=limit)
                assert walked == in_one_page, f"sort={sort} limit={limit}"

    async def test_filters_apply_on_every_page(
        self, accounts: Accounts, tied: set[str], conn: Connection
    ) -> None:
        await create_ticket(conn, accounts.bob, priority="high")

        walked = await self._walk(accounts.alice.client, limit=2, priority="high")

        cur = await conn.execute(
            "select id::text from tickets where priority = 'high' and user_id = %s",
            (accounts.alice.user.id,),
        )
        assert sorted(walked) == sorted(row["id"] for row in await cur.fetchall())

    async def test_exact_fit_has_no_next_page(self, accounts: Accounts, tied: set[str]) -> None:
        response = await accounts.agent.client.get(LIST, params={"limit": 7})

        assert len(response.json()["items"]) == 7
        assert response.json()["next_cursor"] is None

    async def test_cursor_of_another_sort(self, accounts: Accounts, tied: set[str]) -> None:
        first = await accounts.agent.client.get(LIST, params={"sort": "created", "limit": 2})

        response = await accounts.agent.client.get(
            LIST, params={"sort": "priority", "cursor": first.json()["next_cursor"]}
        )

        assert response.status_code == 422
        assert response.json()["code"] == "bad_cursor"
        assert response.json()["field"] == "cursor"
