"""An agent's quicker flow: tickets opened for a customer, resolving straight from open,
and the optional rule that a public staff reply sets a ticket waiting."""

import re
from collections.abc import AsyncIterator
from email.message import EmailMessage
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response

from tests.factories import Accounts, create_ticket, ticket_body
from tests.mailservers import SmtpServer
from tests.notifications.conftest import mail_settings
from tests.notifications.support import plain, settled
from tests.workers import running_worker
from ticketdesk.config import Settings
from ticketdesk.db import Connection

LINK = re.compile(r"(http\S+)#token=([A-Za-z0-9_-]+)")


async def _count(conn: Connection, table: str) -> int:
    cur = await conn.execute(f"select count(*) as n from {table}")  # noqa: S608 (fixed names)
    row = await cur.fetchone()
    assert row is not None
    return int(row["n"])


async def _open_for(accounts: Accounts, on_behalf_of: dict[str, Any]) -> Response:
    return await accounts.agent.client.post(
        "/api/v1/tickets", json=ticket_body(on_behalf_of=on_behalf_of)
    )


async def _events(client: AsyncClient, ticket_id: object) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/tickets/{ticket_id}/events")
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


class TestOnBehalfOf:
    async def test_an_existing_customer_by_id(self, accounts: Accounts) -> None:
        alice = accounts.alice.user

        response = await _open_for(accounts, {"user_id": str(alice.id)})

        assert response.status_code == 201, response.text
        ticket = response.json()
        assert ticket["user_id"] == str(alice.id)
        mine = (await accounts.alice.client.get("/api/v1/tickets")).json()["items"]
        assert [t["id"] for t in mine] == [ticket["id"]]
        [created] = await _events(accounts.alice.client, ticket["id"])
        assert created["kind"] == "created"
        assert created["actor"]["id"] == str(accounts.agent.user.id)
        assert created["data"]["on_behalf_of"] == {"id": str(alice.id), "name": alice.name}

    async def test_an_existing_customer_by_address(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        users_before = await _count(conn, "users")

        response = await _open_for(
            accounts, {"email": accounts.bob.user.email.upper(), "name": "Ignored"}
        )

        assert response.status_code == 201, response.text
        assert response.json()["user_id"] == str(accounts.bob.user.id)
        assert await _count(conn, "users") == users_before

    async def test_a_submitter_may_not(self, accounts: Accounts, conn: Connection) -> None:
        response = await accounts.alice.client.post(
            "/api/v1/tickets",
            json=ticket_body(on_behalf_of={"user_id": str(accounts.bob.user.id)}),
        )

        assert response.status_code == 403
        assert response.json()["code"] == "staff_only"
        assert response.json()["field"] == "on_behalf_of"
        assert await _count(conn, "tickets") == 0

    @pytest.mark.parametrize(
        ("on_behalf_of", "status", "field"),
        [
            ({}, 422, "on_behalf_of"),
            ({"user_id": "0190a1b2-0000-7000-8000-000000000000"}, 422, "on_behalf_of.user_id"),
            ({"email": "new.customer@example.com"}, 422, "on_behalf_of.name"),
            # Inviting needs mail, which this server does not send.
            ({"email": "new.customer@example.com", "name": "New"}, 409, "on_behalf_of.email"),
        ],
    )
    async def test_refused_and_nothing_stored(
        self,
        accounts: Accounts,
        conn: Connection,
        on_behalf_of: dict[str, Any],
        status: int,
        field: str,
    ) -> None:
        users_before = await _count(conn, "users")

        response = await _open_for(accounts, on_behalf_of)

        assert response.status_code == status, response.text
        assert response.json()["field"] == field
        assert await _count(conn, "tickets") == 0
        assert await _count(conn, "users") == users_before

    async def test_a_deactivated_customer_is_refused(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        await accounts.admin.client.patch(
            f"/api/v1/users/{accounts.bob.user.id}", json={"is_active": False}
        )

        by_id = await _open_for(accounts, {"user_id": str(accounts.bob.user.id)})
        by_address = await _open_for(accounts, {"email": accounts.bob.user.email})

        assert (by_id.status_code, by_id.json()["field"]) == (422, "on_behalf_of.user_id")
        assert (by_address.status_code, by_address.json()["field"]) == (
            422,
            "on_behalf_of.email",
        )
        assert await _count(conn, "tickets") == 0


class TestOnBehalfOfByMail:
    @pytest.fixture
    def settings_overrides(self, smtp_server: SmtpServer) -> dict[str, Any]:
        return mail_settings(smtp_server)

    @pytest.fixture
    async def worker(self, app: FastAPI, settings: Settings) -> AsyncIterator[None]:
        async with running_worker(app, settings):
            yield

    async def _mails(self, smtp_server: SmtpServer, count: int) -> list[EmailMessage]:
        return await anyio.to_thread.run_sync(smtp_server.wait_for, count)

    @pytest.mark.usefixtures("worker")
    async def test_a_new_address_is_invited_and_told_of_its_ticket(
        self, app: FastAPI, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        response = await _open_for(
            accounts, {"email": "walk.in@example.com", "name": "Walk-in Customer"}
        )
        await settled(conn)
        # The invitation, the receipt to the customer, the new ticket to the admin.
        received = await self._mails(smtp_server, 3)

        assert response.status_code == 201, response.text
        ticket = response.json()
        assert ticket["submitter"]["name"] == "Walk-in Customer"
        to_customer = {m["Subject"]: m for m in received if "walk.in@example.com" in m["To"]}
        invitation = to_customer["You are invited to ticketdesk"]
        receipt = to_customer[f"[#{ticket['number']}] {ticket['title']}"]
        assert f"{accounts.agent.user.name} opened ticket #{ticket['number']}" in plain(receipt)
        assert "for you" in plain(receipt)
        match = LINK.search(plain(invitation))
        assert match is not None

        # The customer chooses a password with the invitation and finds the ticket theirs.
        async with AsyncClient(
            transport=ASGITransport(app=app), base_url="https://testserver"
        ) as browser:
            accepted = await browser.post(
                "/api/v1/auth/invitations/accept",
                json={"token": match[2], "password": "a walk-in passphrase"},
            )
            listed = await browser.get("/api/v1/tickets")
        assert accepted.status_code == 200
        assert [t["id"] for t in listed.json()["items"]] == [ticket["id"]]

    async def test_an_address_mail_cannot_reach_is_refused_and_nothing_stored(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        users_before = await _count(conn, "users")

        response = await _open_for(accounts, {"email": "desk@printer.corp.local", "name": "Desk"})

        assert response.status_code == 422, response.text
        assert response.json()["code"] == "email_domain_not_public"
        assert response.json()["field"] == "on_behalf_of.email"
        assert await _count(conn, "tickets") == 0
        assert await _count(conn, "users") == users_before
        assert await _count(conn, "procrastinate_jobs") == 0


class TestResolveFromOpen:
    async def test_staff_resolve_an_open_ticket(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        offered = (await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}")).json()
        response = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"status": "resolved"}
        )

        assert offered["transitions"] == ["in_progress", "waiting", "resolved", "closed"]
        assert response.status_code == 200
        assert response.json()["status"] == "resolved"
        assert response.json()["resolved_at"] is not None

    async def test_in_bulk(self, accounts: Accounts, conn: Connection) -> None:
        tickets = [await create_ticket(conn, accounts.alice) for _ in range(2)]

        response = await accounts.agent.client.post(
            "/api/v1/tickets/bulk",
            json={
                "ticket_ids": [str(t.id) for t in tickets],
                "action": "status",
                "value": "resolved",
            },
        )

        assert response.status_code == 200, response.text
        assert [t["status"] for t in response.json()["items"]] == ["resolved", "resolved"]

    async def test_not_the_submitter(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.alice.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"status": "resolved"}
        )

        assert response.status_code == 409
        assert response.json()["code"] == "invalid_transition"


async def _reply(client: AsyncClient, ticket_id: object, *, internal: bool = False) -> None:
    response = await client.post(
        f"/api/v1/tickets/{ticket_id}/comments",
        json={"comment": "Could you send us the log file?", "is_internal": internal},
    )
    assert response.status_code == 201, response.text


async def _status(client: AsyncClient, ticket_id: object) -> str:
    status: str = (await client.get(f"/api/v1/tickets/{ticket_id}")).json()["status"]
    return status


class TestReplyMovesToWaiting:
    @pytest.mark.parametrize("settings_overrides", [{"tickets": {"reply_moves_to_waiting": True}}])
    @pytest.mark.parametrize("path", [[], ["in_progress"]])
    async def test_on_a_staff_reply_sets_the_ticket_waiting(
        self, accounts: Accounts, conn: Connection, path: list[str]
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        for status in path:
            await accounts.agent.client.put(f"/api/v1/tickets/{ticket.id}", json={"status": status})

        await _reply(accounts.agent.client, ticket.id)

        assert await _status(accounts.alice.client, ticket.id) == "waiting"
        last = (await _events(accounts.alice.client, ticket.id))[-2:]
        assert [e["kind"] for e in last] == ["status_changed", "commented"]
        assert last[0]["data"] == {"from": path[-1] if path else "open", "to": "waiting"}
        assert last[0]["actor"]["id"] == str(accounts.agent.user.id)

    @pytest.mark.parametrize("settings_overrides", [{"tickets": {"reply_moves_to_waiting": True}}])
    async def test_on_an_internal_note_never_moves_it(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        await _reply(accounts.agent.client, ticket.id, internal=True)

        assert await _status(accounts.agent.client, ticket.id) == "open"
        kinds = [e["kind"] for e in await _events(accounts.agent.client, ticket.id)]
        assert "status_changed" not in kinds

    @pytest.mark.parametrize("settings_overrides", [{"tickets": {"reply_moves_to_waiting": True}}])
    async def test_on_the_submitters_reply_and_later_statuses_are_left_alone(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        resolved = await create_ticket(conn, accounts.alice)
        await accounts.agent.client.put(
            f"/api/v1/tickets/{resolved.id}", json={"status": "resolved"}
        )

        await _reply(accounts.alice.client, ticket.id)
        await _reply(accounts.agent.client, resolved.id)

        assert await _status(accounts.agent.client, ticket.id) == "open"
        assert await _status(accounts.agent.client, resolved.id) == "resolved"

    async def test_off_by_default(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"status": "in_progress"}
        )

        await _reply(accounts.agent.client, ticket.id)

        assert await _status(accounts.agent.client, ticket.id) == "in_progress"
        automation = (await accounts.admin.client.get("/api/v1/admin/automation")).json()
        assert automation["reply_moves_to_waiting"] is False

    @pytest.mark.parametrize("settings_overrides", [{"tickets": {"reply_moves_to_waiting": True}}])
    async def test_admins_see_it_on(self, accounts: Accounts) -> None:
        automation = (await accounts.admin.client.get("/api/v1/admin/automation")).json()

        assert automation["reply_moves_to_waiting"] is True


class TestFindingACustomer:
    async def test_by_part_of_name_or_address(self, accounts: Accounts) -> None:
        by_name = await accounts.agent.client.get("/api/v1/users", params={"q": "ALI"})
        by_address = await accounts.agent.client.get(
            "/api/v1/users", params={"q": accounts.bob.user.email.split("@")[0]}
        )

        assert [u["id"] for u in by_name.json()["items"]] == [str(accounts.alice.user.id)]
        assert [u["id"] for u in by_address.json()["items"]] == [str(accounts.bob.user.id)]

    async def test_submitters_may_not_look(self, accounts: Accounts) -> None:
        response = await accounts.alice.client.get("/api/v1/users", params={"q": "bob"})

        assert response.status_code == 403
