"""Canned replies: ``/api/v1/canned-replies`` and their use on a ticket (render, send)."""

from typing import Any

import pytest
from httpx import AsyncClient

from tests.factories import Accounts, create_ticket, make_user, signed_in
from ticketdesk.comments import service as comments
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.labels import service as labels
from ticketdesk.labels.schemas import LabelCreate
from ticketdesk.tickets.access import get_visible_ticket

REPLIES = "/api/v1/canned-replies"
WINDOW = Settings().reopen_window
GREETING = (
    "Hi {{ submitter.name }}, about #{{ ticket.number }} ({{ ticket.title }}): {{ agent.name }}"
)


async def _create(client: AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"title": "Greeting", "body": GREETING, **fields}
    response = await client.post(REPLIES, json=body)
    assert response.status_code == 201, response.text
    reply: dict[str, Any] = response.json()
    return reply


async def _count(conn: Connection, query: str, *params: Any) -> int:
    cur = await conn.execute(query, params)
    row = await cur.fetchone()
    assert row is not None
    return int(row["count"])


class TestListCannedReplies:
    async def test_anonymous(self, anon: AsyncClient) -> None:
        assert (await anon.get(REPLIES)).status_code == 401

    async def test_submitter(self, accounts: Accounts) -> None:
        response = await accounts.alice.client.get(REPLIES)

        assert response.status_code == 403
        assert response.json()["code"] == "staff_only"

    async def test_shared_and_own_only(
        self, app: Any, accounts: Accounts, conn: Connection
    ) -> None:
        await _create(accounts.admin.client, title="Shared thanks", scope="shared")
        await _create(accounts.agent.client, title="Aaron's own")
        other = await make_user(conn, role="agent", name="Olga Other")
        async with signed_in(app, conn, other) as olga:
            await _create(olga, title="Olga's own")

            mine = await accounts.agent.client.get(REPLIES)
            hers = await olga.get(REPLIES)

        assert [(r["title"], r["scope"]) for r in mine.json()] == [
            ("Aaron's own", "personal"),
            ("Shared thanks", "shared"),
        ]
        assert [r["title"] for r in hers.json()] == ["Olga's own", "Shared thanks"]


class TestCreateCannedReply:
    async def test_personal_by_an_agent(self, accounts: Accounts, conn: Connection) -> None:
        await labels.create_label(conn, LabelCreate(name="Billing"))

        reply = await _create(accounts.agent.client, set_status="resolved", add_labels=["billing"])

        assert reply["scope"] == "personal"
        assert reply["body"] == GREETING
        assert reply["set_status"] == "resolved"
        assert reply["add_labels"] == ["Billing"]

    async def test_shared_is_for_admins(self, accounts: Accounts) -> None:
        response = await accounts.agent.client.post(
            REPLIES, json={"title": "Thanks", "body": "Thanks!", "scope": "shared"}
        )

        assert response.status_code == 403
        assert response.json()["code"] == "admin_only"
        assert (await accounts.agent.client.get(REPLIES)).json() == []
        assert (await _create(accounts.admin.client, scope="shared"))["scope"] == "shared"

    @pytest.mark.parametrize(
        "body",
        [
            "{{ ticket.__class__ }}",
            "{{ ''.__class__.__mro__ }}",
            "{{ ticket.number.__class__.__base__ }}",
            "{{ ticket['number'] }}",
            "{{ ticket.description }}",
            "{{ ticket.notes }}",
            "{{ internal_notes }}",
            "{{ submitter.email }}",
            "{{ cycler.__init__.__globals__ }}",
            "{{ self }}",
            "{{ ticket.title | upper }}",
            "{{ lipsum() }}",
            "{% for c in ticket %}{{ c }}{% endfor %}",
            "{% set x = 1 %}",
            "{{ ticket.number }",
        ],
    )
    async def test_refused_template(self, accounts: Accounts, body: str) -> None:
        response = await accounts.agent.client.post(REPLIES, json={"title": "Bad", "body": body})

        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["field"] == "body"
        assert response.json()["code"] == "bad_template"
        assert (await accounts.agent.client.get(REPLIES)).json() == []

    async def test_literal_braces_and_raw_are_kept(self, accounts: Accounts) -> None:
        body = "Type {{ '{{' }} or {% raw %}{{ anything }}{% endraw %} as text."

        assert (await _create(accounts.agent.client, body=body))["body"] == body

    async def test_invalid_fields(self, accounts: Accounts) -> None:
        cases: list[tuple[dict[str, Any], str]] = [
            ({"title": "", "body": "x"}, "title"),
            ({"title": "x", "body": ""}, "body"),
            ({"title": "x", "body": "x", "set_status": "done"}, "set_status"),
            ({"title": "x", "body": "x", "add_labels": ["no-such-label"]}, "add_labels"),
            ({"title": "x", "body": "x", "scope": "team"}, "scope"),
            ({"title": "x", "body": "x", "macro": True}, "macro"),
        ]
        for body, field in cases:
            response = await accounts.agent.client.post(REPLIES, json=body)
            assert response.status_code == 422, body
            assert response.json()["field"] == field, response.json()
        assert (await accounts.agent.client.get(REPLIES)).json() == []

    async def test_duplicate_title(self, accounts: Accounts) -> None:
        await _create(accounts.agent.client, title="Thanks")

        response = await accounts.agent.client.post(REPLIES, json={"title": "thanks", "body": "x"})

        assert response.status_code == 409
        assert response.json()["field"] == "title"


class TestChangeCannedReply:
    async def test_owner_edits_and_deletes(self, accounts: Accounts) -> None:
        reply = await _create(accounts.agent.client, set_status="waiting")
        url = f"{REPLIES}/{reply['id']}"

        edited = await accounts.agent.client.patch(
            url, json={"body": "Hello {{ submitter.name }}", "set_status": None}
        )
        assert edited.status_code == 200
        assert edited.json()["body"] == "Hello {{ submitter.name }}"
        assert edited.json()["set_status"] is None
        assert edited.json()["title"] == "Greeting"

        assert (await accounts.agent.client.delete(url)).status_code == 204
        assert (await accounts.agent.client.get(url)).status_code == 404

    async def test_refused_edit_keeps_the_reply(self, accounts: Accounts) -> None:
        reply = await _create(accounts.agent.client)
        url = f"{REPLIES}/{reply['id']}"

        response = await accounts.agent.client.patch(url, json={"body": "{{ ticket.__class__ }}"})

        assert response.status_code == 422
        assert response.json()["field"] == "body"
        assert (await accounts.agent.client.get(url)).json()["body"] == GREETING

    async def test_someone_elses_personal_reply_is_not_there(self, accounts: Accounts) -> None:
        reply = await _create(accounts.admin.client)
        url = f"{REPLIES}/{reply['id']}"

        assert (await accounts.agent.client.get(url)).status_code == 404
        assert (await accounts.agent.client.patch(url, json={"title": "Mine"})).status_code == 404
        assert (await accounts.agent.client.delete(url)).status_code == 404

    async def test_shared_reply_is_changed_by_admins_only(self, accounts: Accounts) -> None:
        reply = await _create(accounts.admin.client, scope="shared")
        url = f"{REPLIES}/{reply['id']}"

        assert (await accounts.agent.client.get(url)).status_code == 200
        refused = await accounts.agent.client.patch(url, json={"title": "Mine"})
        assert refused.status_code == 403
        assert refused.json()["code"] == "admin_only"
        assert (await accounts.agent.client.delete(url)).status_code == 403
        renamed = await accounts.admin.client.patch(url, json={"title": "Ours"})
        assert renamed.json()["title"] == "Ours"


class TestRenderCannedReply:
    async def test_filled_in_with_public_values(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice, title="Export button does nothing")
        reply = await _create(accounts.agent.client)

        response = await accounts.agent.client.get(
            f"/api/v1/tickets/{ticket.number}/canned-replies/{reply['id']}/render"
        )

        assert response.status_code == 200, response.text
        assert response.json()["body"] == (
            f"Hi Alice Submitter, about #{ticket.number} (Export button does nothing): Aaron Agent"
        )

    async def test_submitters(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        reply = await _create(accounts.agent.client)
        url = f"/api/v1/tickets/{ticket.id}/canned-replies/{reply['id']}/render"

        own = await accounts.alice.client.get(url)
        other = await accounts.bob.client.get(url)

        assert (own.status_code, own.json()["code"]) == (403, "staff_only")
        assert (other.status_code, other.json()["code"]) == (404, "ticket_not_found")

    async def test_another_agents_reply(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        reply = await _create(accounts.admin.client)

        response = await accounts.agent.client.get(
            f"/api/v1/tickets/{ticket.id}/canned-replies/{reply['id']}/render"
        )

        assert response.status_code == 404
        assert response.json()["code"] == "canned_reply_not_found"

    async def test_a_body_stored_behind_the_checks_reaches_nothing(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        """Even a body written straight into the table is refused when rendered."""
        ticket = await create_ticket(conn, accounts.alice)
        async with conn.transaction():
            await comments.add_comment(
                conn,
                accounts.agent.actor,
                await get_visible_ticket(conn, accounts.agent.actor, str(ticket.id)),
                "Internal: refund ref RF-99231",
                is_internal=True,
                reopen_window=WINDOW,
            )
        reply = await _create(accounts.agent.client)
        for body in (
            "{{ ''.__class__.__mro__[1].__subclasses__() }}",
            "{{ ticket.items() }}",
            "{{ ticket.__class__.__init__.__globals__ }}",
        ):
            await conn.execute(
                "update canned_replies set body = %s where id = %s", (body, reply["id"])
            )

            response = await accounts.agent.client.get(
                f"/api/v1/tickets/{ticket.id}/canned-replies/{reply['id']}/render"
            )

            assert response.status_code == 422, body
            assert "RF-99231" not in response.text
            assert "subclasses" not in response.json()["detail"]


class TestSendCannedReply:
    async def _in_progress(self, accounts: Accounts, conn: Connection) -> Any:
        ticket = await create_ticket(conn, accounts.alice)
        moved = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"status": "in_progress"}
        )
        assert moved.status_code == 200
        return ticket

    async def test_actions_applied_once_with_the_reply(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        await labels.create_label(conn, LabelCreate(name="Billing"))
        ticket = await self._in_progress(accounts, conn)
        reply = await _create(accounts.agent.client, set_status="resolved", add_labels=["Billing"])

        response = await accounts.agent.client.post(
            f"/api/v1/tickets/{ticket.id}/canned-replies/{reply['id']}/send",
            json={"comment": "Fixed in 2.4, Alice. Thanks for the report!"},
        )

        assert response.status_code == 201, response.text
        assert response.json()["comment"] == "Fixed in 2.4, Alice. Thanks for the report!"
        assert response.json()["is_internal"] is False
        seen = (await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}")).json()
        assert seen["status"] == "resolved"
        assert seen["tags"] == ["Billing"]
        assert [c["comment"] for c in seen["comments"]] == [
            "Fixed in 2.4, Alice. Thanks for the report!"
        ]
        events = (await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}/events")).json()
        kinds = [e["kind"] for e in events["items"]]
        assert kinds.count("commented") == 1
        assert kinds.count("tags_changed") == 1
        assert kinds.count("status_changed") == 2  # to in progress, then resolved

    async def test_asking_for_details_sets_a_new_ticket_waiting(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        reply = await _create(accounts.agent.client, set_status="waiting")

        response = await accounts.agent.client.post(
            f"/api/v1/tickets/{ticket.id}/canned-replies/{reply['id']}/send",
            json={"comment": "Which version are you on, Alice?"},
        )

        assert response.status_code == 201, response.text
        seen = (await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}")).json()
        assert seen["status"] == "waiting"
        assert [c["comment"] for c in seen["comments"]] == ["Which version are you on, Alice?"]

    async def test_labels_join_the_ones_the_ticket_has(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        for name in ("Billing", "ui"):
            await labels.create_label(conn, LabelCreate(name=name))
        ticket = await create_ticket(conn, accounts.alice)
        tagged = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"tags": ["ui"]}
        )
        assert tagged.status_code == 200
        reply = await _create(accounts.agent.client, add_labels=["Billing", "ui"])

        response = await accounts.agent.client.post(
            f"/api/v1/tickets/{ticket.id}/canned-replies/{reply['id']}/send",
            json={"comment": "Passing this to billing."},
        )

        assert response.status_code == 201
        seen = (await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}")).json()
        assert (seen["tags"], seen["status"]) == (["Billing", "ui"], "open")

    async def test_a_refused_action_refuses_the_reply(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        closed = await accounts.agent.client.delete(f"/api/v1/tickets/{ticket.id}/close")
        assert closed.status_code == 200, closed.text
        reply = await _create(accounts.agent.client, set_status="resolved")  # closed: only reopens

        response = await accounts.agent.client.post(
            f"/api/v1/tickets/{ticket.id}/canned-replies/{reply['id']}/send",
            json={"comment": "Resolved!"},
        )

        assert response.status_code == 409
        assert response.json()["field"] == "status"
        assert (
            await _count(conn, "select count(*) from comments where ticket_id = %s", ticket.id) == 0
        )
        seen = (await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}")).json()
        assert seen["status"] == "closed"

    async def test_without_actions_it_is_a_reply(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        reply = await _create(accounts.agent.client)

        response = await accounts.agent.client.post(
            f"/api/v1/tickets/{ticket.id}/canned-replies/{reply['id']}/send",
            json={"comment": "Looking into it.", "is_internal": True},
        )

        assert response.status_code == 201
        assert response.json()["is_internal"] is True
        seen = (await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}")).json()
        assert seen["comments"] == []
        assert seen["status"] == "open"

    async def test_submitters(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        reply = await _create(accounts.agent.client, set_status="closed")
        url = f"/api/v1/tickets/{ticket.id}/canned-replies/{reply['id']}/send"

        own = await accounts.alice.client.post(url, json={"comment": "Closing my own"})
        other = await accounts.bob.client.post(url, json={"comment": "Closing hers"})

        assert own.status_code == 403
        assert other.status_code == 404
        seen = (await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}")).json()
        assert (seen["status"], seen["comments"]) == ("open", [])
