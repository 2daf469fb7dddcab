"""A ticket's conversation: public replies and staff-only internal notes."""

from datetime import datetime

from httpx import AsyncClient

from tests.factories import Accounts, create_ticket
from ticketdesk.db import Connection
from ticketdesk.ticket_detail import TicketDetail

NOTE = "Refund approved off the record; reference QX-81724."


def _comments(ticket: TicketDetail) -> str:
    return f"/api/v1/tickets/{ticket.id}/comments"


async def _note(accounts: Accounts, ticket: TicketDetail) -> str:
    """An internal note on ``ticket``; returns its id."""
    response = await accounts.agent.client.post(
        _comments(ticket), json={"comment": NOTE, "is_internal": True}
    )
    assert response.status_code == 201
    return str(response.json()["id"])


class TestAddComment:
    async def test_anonymous(self, anon: AsyncClient, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await anon.post(_comments(ticket), json={"comment": "Hello?"})

        assert response.status_code == 401

    async def test_other_users_ticket(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.bob.client.post(_comments(ticket), json={"comment": "Me too"})

        assert response.status_code == 404
        cur = await conn.execute("select count(*) as n from comments")
        assert (await cur.fetchone()) == {"n": 0}

    async def test_valid(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.alice.client.post(
            f"/api/v1/tickets/{ticket.number}/comments",
            json={"comment": "  It also happens on **Safari**.  "},
        )

        assert response.status_code == 201
        comment = response.json()
        assert comment["body"] == "It also happens on **Safari**."
        assert comment["is_internal"] is False
        assert comment["source"] == "ticketdesk"
        assert comment["ticket_id"] == str(ticket.id)
        assert comment["author"]["id"] == str(accounts.alice.user.id)
        assert comment["author"]["name"] == "Alice Submitter"

    async def test_staff_reply(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.agent.client.post(
            _comments(ticket), json={"comment": "Fixed in 2.4.2.", "is_internal": False}
        )

        assert response.status_code == 201
        seen_by_alice = await accounts.alice.client.get(_comments(ticket))
        assert [c["body"] for c in seen_by_alice.json()] == ["Fixed in 2.4.2."]

    async def test_touches_the_ticket(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        await accounts.alice.client.post(_comments(ticket), json={"comment": "Any news?"})

        after = await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}")
        assert datetime.fromisoformat(after.json()["updated_at"]) > ticket.updated_at

    async def test_records_an_event(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        created = await accounts.alice.client.post(_comments(ticket), json={"comment": "Ping"})

        events = await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}/events")
        last = events.json()["items"][-1]
        assert last["kind"] == "commented"
        assert last["data"] == {"comment_id": created.json()["id"], "is_internal": False}

    async def test_submitter_may_not_write_internal_notes(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.alice.client.post(
            _comments(ticket), json={"comment": "Secret!", "is_internal": True}
        )

        assert response.status_code == 403
        assert response.json()["field"] == "is_internal"
        cur = await conn.execute("select count(*) as n from comments")
        assert (await cur.fetchone()) == {"n": 0}

    async def test_invalid(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        for body in ({"comment": ""}, {"comment": "   "}, {"comment": "a\x00b"}, {}):
            response = await accounts.alice.client.post(_comments(ticket), json=body)
            assert response.status_code == 422, body
            assert response.json()["field"] == "comment", body


class TestListComments:
    async def test_anonymous(self, anon: AsyncClient, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        assert (await anon.get(_comments(ticket))).status_code == 401

    async def test_other_users_ticket(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await accounts.alice.client.post(_comments(ticket), json={"comment": "Mine alone"})

        response = await accounts.bob.client.get(_comments(ticket))

        assert response.status_code == 404
        assert "Mine alone" not in response.text

    async def test_oldest_first(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        for text in ("first", "second", "third"):
            await accounts.alice.client.post(_comments(ticket), json={"comment": text})

        response = await accounts.alice.client.get(_comments(ticket))

        assert [c["body"] for c in response.json()] == ["first", "second", "third"]

    async def test_internal_note_hidden(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await accounts.agent.client.post(_comments(ticket), json={"comment": "Public reply"})
        note_id = await _note(accounts, ticket)

        response = await accounts.alice.client.get(_comments(ticket))

        assert [c["body"] for c in response.json()] == ["Public reply"]
        assert NOTE not in response.text
        assert note_id not in response.text

    async def test_staff_see_internal_notes(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await _note(accounts, ticket)

        for person in (accounts.agent, accounts.admin):
            response = await person.client.get(_comments(ticket))
            [note] = response.json()
            assert note["body"] == NOTE
            assert note["is_internal"] is True
            assert note["author"]["email"] == accounts.agent.user.email


class TestInternalNotesStayInternal:
    """The one rule that must hold everywhere a submitter can read."""

    async def test_not_in_ticket_detail(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        note_id = await _note(accounts, ticket)

        response = await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}")

        assert response.json()["comments"] == []
        assert NOTE not in response.text
        assert note_id not in response.text
        staff_view = await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}")
        assert [c["body"] for c in staff_view.json()["comments"]] == [NOTE]

    async def test_not_in_events(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        note_id = await _note(accounts, ticket)

        response = await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}/events")

        assert [e["kind"] for e in response.json()["items"]] == ["created"]
        assert note_id not in response.text
        staff_view = await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}/events")
        assert [e["kind"] for e in staff_view.json()["items"]] == ["created", "commented"]

    async def test_not_in_a_submitters_search(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await _note(accounts, ticket)

        search = {"q": "QX-81724 refund"}
        response = await accounts.alice.client.get("/api/v1/tickets", params=search)
        staff = await accounts.agent.client.get("/api/v1/tickets", params=search)

        assert response.json()["items"] == []
        assert [t["id"] for t in staff.json()["items"]] == [str(ticket.id)]

    async def test_not_in_the_reply_to_a_later_change(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await _note(accounts, ticket)

        response = await accounts.alice.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"title": "A title edited later on"}
        )

        assert response.status_code == 200
        assert NOTE not in response.text
