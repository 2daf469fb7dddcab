"""GET /api/v1/tickets/{id}/events: a ticket's timeline."""

from httpx import AsyncClient

from tests.factories import Accounts, create_ticket
from ticketdesk.db import Connection


class TestListTicketEvents:
    async def test_anonymous(self, anon: AsyncClient, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        assert (await anon.get(f"/api/v1/tickets/{ticket.id}/events")).status_code == 401

    async def test_other_users_ticket(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.bob.client.get(f"/api/v1/tickets/{ticket.number}/events")

        assert response.status_code == 404

    async def test_valid(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice, priority="low")
        await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"status": "in_progress"}
        )
        await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}/assign", json={"assignee_id": str(accounts.agent.user.id)}
        )
        await accounts.alice.client.post(
            f"/api/v1/tickets/{ticket.id}/comments", json={"comment": "Thanks!"}
        )

        response = await accounts.alice.client.get(f"/api/v1/tickets/{ticket.number}/events")
        staff = await accounts.agent.client.get(f"/api/v1/tickets/{ticket.number}/events")

        assert response.status_code == 200
        page = response.json()
        assert page["next_cursor"] is None
        timeline = [(e["kind"], e["actor"]["name"]) for e in page["items"]]
        # The assignment is staff bookkeeping: not on the submitter's timeline.
        assert timeline == [
            ("created", "Alice Submitter"),
            ("status_changed", "Aaron Agent"),
            ("commented", "Alice Submitter"),
        ]
        assert [e["kind"] for e in staff.json()["items"]] == [
            "created",
            "status_changed",
            "assigned",
            "commented",
        ]
        created = page["items"][0]
        assert created["ticket_id"] == str(ticket.id)
        assert created["data"] == {"type": "bug", "priority": "low", "title": ticket.title}
        # Submitters see names, not the staff's addresses.
        assert page["items"][1]["actor"]["email"] is None
        assert accounts.agent.user.email not in response.text

    async def test_pages(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        for n in range(4):
            await accounts.alice.client.post(
                f"/api/v1/tickets/{ticket.id}/comments", json={"comment": f"reply {n}"}
            )
        url = f"/api/v1/tickets/{ticket.id}/events"

        first = await accounts.alice.client.get(url, params={"limit": 2})
        second = await accounts.alice.client.get(
            url, params={"limit": 2, "cursor": first.json()["next_cursor"]}
        )
        third = await accounts.alice.client.get(
            url, params={"limit": 2, "cursor": second.json()["next_cursor"]}
        )

        ids = [e["id"] for page in (first, second, third) for e in page.json()["items"]]
        whole = await accounts.alice.client.get(url)
        assert ids == [e["id"] for e in whole.json()["items"]]
        assert len(ids) == 5
        assert third.json()["next_cursor"] is None

    async def test_staff_bookkeeping_leaves_submitter_pages_full(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice, priority="low")
        url = f"/api/v1/tickets/{ticket.id}/events"
        for priority in ("medium", "high", "critical"):
            await accounts.agent.client.put(
                f"/api/v1/tickets/{ticket.id}", json={"priority": priority}
            )
        await accounts.alice.client.post(
            f"/api/v1/tickets/{ticket.id}/comments", json={"comment": "Any news?"}
        )

        first = await accounts.alice.client.get(url, params={"limit": 2})

        assert [e["kind"] for e in first.json()["items"]] == ["created", "commented"]
        assert first.json()["next_cursor"] is None

    async def test_invalid_paging(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        url = f"/api/v1/tickets/{ticket.id}/events"

        for params, field in (({"limit": 0}, "limit"), ({"cursor": "nope"}, "cursor")):
            response = await accounts.alice.client.get(url, params=params)
            assert response.status_code == 422, params
            assert response.json()["field"] == field

    async def test_internal_note_hidden(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        note = await accounts.agent.client.post(
            f"/api/v1/tickets/{ticket.id}/comments",
            json={"comment": "Checked the logs quietly.", "is_internal": True},
        )

        mine = await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}/events")
        staff = await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}/events")

        assert [e["kind"] for e in mine.json()["items"]] == ["created"]
        assert note.json()["id"] not in mine.text
        assert staff.json()["items"][-1]["data"] == {
            "comment_id": note.json()["id"],
            "is_internal": True,
        }

    async def test_change_and_event_commit_together(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        closed = await accounts.agent.client.delete(f"/api/v1/tickets/{ticket.id}/close")
        assert closed.status_code == 200, closed.text

        # A closed ticket only reopens: the status refuses, and the priority with it.
        refused = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"priority": "high", "status": "resolved"}
        )

        assert refused.status_code == 409
        events = await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}/events")
        assert [e["kind"] for e in events.json()["items"]] == ["created", "status_changed"]
