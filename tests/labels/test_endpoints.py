"""Labels: everyone signed in reads them; admins create, rename and delete them."""

from typing import Any

from httpx import AsyncClient

from tests.factories import Accounts, create_ticket
from ticketdesk.db import Connection

LABELS = "/api/v1/labels"


async def _create(accounts: Accounts, name: str, **fields: Any) -> dict[str, Any]:
    response = await accounts.admin.client.post(LABELS, json={"name": name, **fields})
    assert response.status_code == 201, response.text
    label: dict[str, Any] = response.json()
    return label


class TestListLabels:
    async def test_anonymous(self, anon: AsyncClient) -> None:
        assert (await anon.get(LABELS)).status_code == 401

    async def test_everyone_signed_in_reads_them(self, accounts: Accounts) -> None:
        for name in ("ui", "Billing", "api"):
            await _create(accounts, name)

        response = await accounts.alice.client.get(LABELS)

        assert response.status_code == 200
        assert [label["name"] for label in response.json()] == ["api", "Billing", "ui"]


class TestCreateLabel:
    async def test_anonymous(self, anon: AsyncClient) -> None:
        assert (await anon.post(LABELS, json={"name": "ui"})).status_code == 401

    async def test_not_an_admin(self, accounts: Accounts) -> None:
        for person in (accounts.alice, accounts.agent):
            response = await person.client.post(LABELS, json={"name": "ui"})
            assert response.status_code == 403
            assert response.json()["code"] == "admin_only"
        assert (await accounts.admin.client.get(LABELS)).json() == []

    async def test_valid(self, accounts: Accounts) -> None:
        response = await accounts.admin.client.post(
            LABELS, json={"name": "  Needs info ", "color": "#FFAA00", "description": "Waiting"}
        )

        assert response.status_code == 201
        label = response.json()
        assert label["name"] == "Needs info"
        assert label["color"] == "#ffaa00"
        assert label["description"] == "Waiting"

    async def test_default_color(self, accounts: Accounts) -> None:
        label = await _create(accounts, "ui")

        assert label["color"] == "#6b7280"
        assert label["description"] == ""

    async def test_duplicate_name(self, accounts: Accounts) -> None:
        await _create(accounts, "Billing")

        response = await accounts.admin.client.post(LABELS, json={"name": "billing"})

        assert response.status_code == 409
        assert response.json()["code"] == "label_exists"
        assert response.json()["field"] == "name"

    async def test_invalid(self, accounts: Accounts) -> None:
        cases: list[tuple[dict[str, Any], str]] = [
            ({"name": ""}, "name"),
            ({"name": "a,b"}, "name"),
            ({"name": "x" * 51}, "name"),
            ({"name": "ok", "color": "red"}, "color"),
            ({"name": "ok", "color": "#12345"}, "color"),
            ({"name": "ok", "description": "x" * 201}, "description"),
        ]

        found = []
        for body, _ in cases:
            response = await accounts.admin.client.post(LABELS, json=body)
            found.append((body, response.status_code, response.json()["field"]))

        assert found == [(body, 422, field) for body, field in cases]
        assert (await accounts.admin.client.get(LABELS)).json() == []


class TestUpdateLabel:
    async def test_not_an_admin(self, accounts: Accounts) -> None:
        label = await _create(accounts, "ui")

        response = await accounts.agent.client.patch(f"{LABELS}/{label['id']}", json={"name": "UX"})

        assert response.status_code == 403

    async def test_recolour(self, accounts: Accounts) -> None:
        label = await _create(accounts, "ui", description="Looks")

        response = await accounts.admin.client.patch(
            f"{LABELS}/{label['id']}", json={"color": "#00ff00"}
        )

        assert response.status_code == 200
        assert response.json()["color"] == "#00ff00"
        assert response.json()["name"] == "ui"
        assert response.json()["description"] == "Looks"

    async def test_rename_reaches_every_ticket(self, accounts: Accounts, conn: Connection) -> None:
        label = await _create(accounts, "ui")
        await _create(accounts, "billing")
        tagged = await create_ticket(conn, accounts.alice)
        untagged = await create_ticket(conn, accounts.alice)
        await accounts.agent.client.put(
            f"/api/v1/tickets/{tagged.id}", json={"tags": ["ui", "billing"]}
        )

        response = await accounts.admin.client.patch(
            f"{LABELS}/{label['id']}", json={"name": "User interface"}
        )

        assert response.status_code == 200
        after = await accounts.alice.client.get(f"/api/v1/tickets/{tagged.id}")
        assert sorted(after.json()["tags"]) == ["User interface", "billing"]
        # Changed as if edited: a reader holding the old ETag learns of it.
        assert after.headers["ETag"] == '"3"'
        # On the timeline for staff: labels are their bookkeeping.
        events = await accounts.agent.client.get(f"/api/v1/tickets/{tagged.id}/events")
        assert events.json()["items"][-1]["data"] == {
            "added": ["User interface"],
            "removed": ["ui"],
        }
        other = await accounts.alice.client.get(f"/api/v1/tickets/{untagged.id}")
        assert other.json()["tags"] == []
        found = await accounts.agent.client.get(
            "/api/v1/tickets", params={"tags": "User interface"}
        )
        assert [t["id"] for t in found.json()["items"]] == [str(tagged.id)]

    async def test_rename_to_a_taken_name(self, accounts: Accounts) -> None:
        label = await _create(accounts, "ui")
        await _create(accounts, "UX")

        response = await accounts.admin.client.patch(f"{LABELS}/{label['id']}", json={"name": "ux"})

        assert response.status_code == 409
        assert response.json()["field"] == "name"
        names = [lbl["name"] for lbl in (await accounts.admin.client.get(LABELS)).json()]
        assert names == ["ui", "UX"]

    async def test_unknown(self, accounts: Accounts) -> None:
        response = await accounts.admin.client.patch(
            f"{LABELS}/01900000-0000-7000-8000-000000000000", json={"name": "x"}
        )

        assert response.status_code == 404
        assert response.json()["code"] == "label_not_found"


class TestDeleteLabel:
    async def test_not_an_admin(self, accounts: Accounts) -> None:
        label = await _create(accounts, "ui")

        response = await accounts.agent.client.delete(f"{LABELS}/{label['id']}")

        assert response.status_code == 403
        assert len((await accounts.agent.client.get(LABELS)).json()) == 1

    async def test_removes_it_from_every_ticket(self, accounts: Accounts, conn: Connection) -> None:
        label = await _create(accounts, "ui")
        await _create(accounts, "billing")
        ticket = await create_ticket(conn, accounts.alice)
        await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"tags": ["ui", "billing"]}
        )

        response = await accounts.admin.client.delete(f"{LABELS}/{label['id']}")

        assert response.status_code == 204
        after = await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}")
        assert after.json()["tags"] == ["billing"]
        assert after.headers["ETag"] == '"3"'
        events = await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}/events")
        assert events.json()["items"][-1]["data"] == {"added": [], "removed": ["ui"]}
        assert [lbl["name"] for lbl in (await accounts.admin.client.get(LABELS)).json()] == [
            "billing"
        ]
        # Gone from the vocabulary: tagging with it again is refused.
        again = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"tags": ["ui"]}
        )
        assert again.status_code == 422
        assert again.json()["field"] == "tags"

    async def test_unknown(self, accounts: Accounts) -> None:
        response = await accounts.admin.client.delete(
            f"{LABELS}/01900000-0000-7000-8000-000000000000"
        )

        assert response.status_code == 404
