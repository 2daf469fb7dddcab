"""POST /api/v1/tickets/bulk: one action on many tickets, all or nothing."""

import uuid
from typing import Any

from httpx import AsyncClient

from tests.factories import Accounts, create_ticket
from ticketdesk.db import Connection
from ticketdesk.ticket_detail import TicketDetail

BULK = "/api/v1/tickets/bulk"


async def _three(conn: Connection, accounts: Accounts) -> list[TicketDetail]:
    return [
        await create_ticket(conn, accounts.alice),
        await create_ticket(conn, accounts.alice),
        await create_ticket(conn, accounts.bob),
    ]


async def _state(conn: Connection) -> list[dict[str, Any]]:
    """Every ticket's triage fields, to compare before and after a refused request."""
    cur = await conn.execute(
        "select id, status, priority, assigned_to_user_id, tags, version from tickets order by id"
    )
    return await cur.fetchall()


def _ids(tickets: list[TicketDetail]) -> list[str]:
    return [str(t.id) for t in tickets]


class TestBulkUpdate:
    async def test_anonymous(self, anon: AsyncClient) -> None:
        response = await anon.post(
            BULK, json={"ticket_ids": [str(uuid.uuid4())], "action": "close"}
        )

        assert response.status_code == 401

    async def test_submitter(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.alice.client.post(
            BULK, json={"ticket_ids": [str(ticket.id)], "action": "priority", "value": "low"}
        )

        assert response.status_code == 403
        assert response.json()["code"] == "staff_only"

    async def test_assign(self, accounts: Accounts, conn: Connection) -> None:
        tickets = await _three(conn, accounts)

        response = await accounts.agent.client.post(
            BULK,
            json={
                "ticket_ids": _ids(tickets),
                "action": "assign",
                "value": str(accounts.agent.user.id),
            },
        )

        assert response.status_code == 200
        items = response.json()["items"]
        assert sorted(item["id"] for item in items) == sorted(_ids(tickets))
        assert {item["assigned_to_user_id"] for item in items} == {str(accounts.agent.user.id)}
        mine = await accounts.agent.client.get("/api/v1/tickets", params={"assignee": "me"})
        assert len(mine.json()["items"]) == 3

    async def test_unassign(self, accounts: Accounts, conn: Connection) -> None:
        tickets = await _three(conn, accounts)
        body = {"ticket_ids": _ids(tickets), "action": "assign"}
        await accounts.agent.client.post(BULK, json={**body, "value": str(accounts.agent.user.id)})

        response = await accounts.agent.client.post(BULK, json={**body, "value": None})

        assert {i["assigned_to_user_id"] for i in response.json()["items"]} == {None}

    async def test_status(self, accounts: Accounts, conn: Connection) -> None:
        tickets = await _three(conn, accounts)

        response = await accounts.agent.client.post(
            BULK, json={"ticket_ids": _ids(tickets), "action": "status", "value": "in_progress"}
        )

        assert response.status_code == 200
        assert {item["status"] for item in response.json()["items"]} == {"in_progress"}

    async def test_priority(self, accounts: Accounts, conn: Connection) -> None:
        tickets = await _three(conn, accounts)

        response = await accounts.admin.client.post(
            BULK, json={"ticket_ids": _ids(tickets), "action": "priority", "value": "critical"}
        )

        assert response.status_code == 200
        assert {item["priority"] for item in response.json()["items"]} == {"critical"}

    async def test_add_label(self, accounts: Accounts, conn: Connection) -> None:
        for name in ("billing", "urgent"):
            await accounts.admin.client.post("/api/v1/labels", json={"name": name})
        tickets = await _three(conn, accounts)
        await accounts.agent.client.put(
            f"/api/v1/tickets/{tickets[0].id}", json={"tags": ["urgent"]}
        )

        response = await accounts.agent.client.post(
            BULK, json={"ticket_ids": _ids(tickets), "action": "add_label", "value": "Billing"}
        )

        assert response.status_code == 200
        tags = {item["id"]: item["tags"] for item in response.json()["items"]}
        assert tags == {
            str(tickets[0].id): ["billing", "urgent"],
            str(tickets[1].id): ["billing"],
            str(tickets[2].id): ["billing"],
        }

    async def test_close(self, accounts: Accounts, conn: Connection) -> None:
        tickets = await _three(conn, accounts)

        response = await accounts.agent.client.post(
            BULK, json={"ticket_ids": _ids(tickets), "action": "close"}
        )

        assert response.status_code == 200
        assert {item["status"] for item in response.json()["items"]} == {"closed"}

    async def test_every_ticket_gets_its_event(self, accounts: Accounts, conn: Connection) -> None:
        tickets = await _three(conn, accounts)

        await accounts.agent.client.post(
            BULK, json={"ticket_ids": _ids(tickets), "action": "priority", "value": "high"}
        )

        for ticket in tickets:
            events = await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}/events")
            last = events.json()["items"][-1]
            assert last["kind"] == "priority_changed"
            assert last["data"] == {"from": "medium", "to": "high"}
            assert last["actor"]["id"] == str(accounts.agent.user.id)

    async def test_one_refusal_changes_nothing(self, accounts: Accounts, conn: Connection) -> None:
        tickets = await _three(conn, accounts)
        await accounts.agent.client.delete(f"/api/v1/tickets/{tickets[1].id}/close")
        before = await _state(conn)

        # Closed → in_progress is not a valid move: the first ticket, already changed, reverts too.
        response = await accounts.agent.client.post(
            BULK, json={"ticket_ids": _ids(tickets), "action": "status", "value": "in_progress"}
        )

        assert response.status_code == 409
        assert response.json()["code"] == "invalid_transition"
        assert f"#{tickets[1].number}" in response.json()["detail"]
        assert await _state(conn) == before

    async def test_unknown_ticket_changes_nothing(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        tickets = await _three(conn, accounts)
        before = await _state(conn)

        response = await accounts.agent.client.post(
            BULK,
            json={
                "ticket_ids": [*_ids(tickets), "01900000-0000-7000-8000-000000000000"],
                "action": "priority",
                "value": "low",
            },
        )

        assert response.status_code == 404
        assert await _state(conn) == before

    async def test_unknown_label_changes_nothing(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        tickets = await _three(conn, accounts)
        before = await _state(conn)

        response = await accounts.agent.client.post(
            BULK, json={"ticket_ids": _ids(tickets), "action": "add_label", "value": "nope"}
        )

        assert response.status_code == 422
        assert response.json()["field"] == "tags"
        assert await _state(conn) == before

    async def test_bad_values(self, accounts: Accounts, conn: Connection) -> None:
        tickets = await _three(conn, accounts)
        before = await _state(conn)
        cases: list[tuple[dict[str, Any], str]] = [
            ({"action": "priority", "value": "urgent"}, "value"),
            ({"action": "status", "value": "pending"}, "value"),
            ({"action": "assign", "value": "not-a-user-id"}, "value"),
            ({"action": "assign", "value": str(accounts.alice.user.id)}, "assignee_id"),
            ({"action": "add_label"}, "value"),
            ({"action": "delete"}, "action"),
        ]

        found = []
        for body, _ in cases:
            response = await accounts.agent.client.post(
                BULK, json={"ticket_ids": _ids(tickets), **body}
            )
            found.append((body, response.status_code, response.json().get("field")))

        assert found == [(body, 422, field) for body, field in cases]
        assert await _state(conn) == before

    async def test_too_many_tickets(self, accounts: Accounts) -> None:
        ids = [str(uuid.uuid4()) for _ in range(101)]

        response = await accounts.agent.client.post(
            BULK, json={"ticket_ids": ids, "action": "close"}
        )

        assert response.status_code == 422
        assert response.json()["field"] == "ticket_ids"

    async def test_no_tickets(self, accounts: Accounts) -> None:
        response = await accounts.agent.client.post(
            BULK, json={"ticket_ids": [], "action": "close"}
        )

        assert response.status_code == 422
        assert response.json()["field"] == "ticket_ids"

    async def test_a_ticket_named_twice_changes_once(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.agent.client.post(
            BULK,
            json={"ticket_ids": [str(ticket.id)] * 2, "action": "priority", "value": "low"},
        )

        assert response.status_code == 200
        assert [item["version"] for item in response.json()["items"]] == [2]
