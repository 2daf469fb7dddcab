"""What a reply does to its ticket: the submitter's sends it back to the agents and marks
it for triage; staff's answer clears the mark; a long-closed ticket takes no reply."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient, Response
from psycopg import sql

from tests.factories import Accounts, Person, create_ticket
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.ticket_detail import TicketDetail
from ticketdesk.tickets import listing
from ticketdesk.tickets.schemas import TicketFilters

WINDOW = Settings().reopen_window

TICKETS = "/api/v1/tickets"


def _url(ticket: TicketDetail) -> str:
    return f"{TICKETS}/{ticket.id}"


async def _reply(person: Person, ticket: TicketDetail, text: str, **extra: Any) -> Response:
    return await person.client.post(f"{_url(ticket)}/comments", json={"comment": text, **extra})


async def _page(person: Person, ticket: TicketDetail) -> dict[str, Any]:
    response = await person.client.get(_url(ticket))
    assert response.status_code == 200
    page: dict[str, Any] = response.json()
    return page


async def _ticket_in(accounts: Accounts, conn: Connection, *statuses: str) -> TicketDetail:
    """Alice's ticket, moved by the agent through ``statuses``."""
    ticket = await create_ticket(conn, accounts.alice)
    for status in statuses:
        response = await accounts.agent.client.put(_url(ticket), json={"status": status})
        assert response.status_code == 200, response.text
    return ticket


async def _closed_days_ago(conn: Connection, ticket: TicketDetail, days: float) -> None:
    async with conn.transaction():
        await conn.execute(
            "update tickets set closed_at = %(at)s where id = %(id)s",
            {"at": datetime.now(UTC) - timedelta(days=days), "id": ticket.id},
        )


async def _timeline(person: Person, ticket: TicketDetail) -> list[tuple[str, str, Any]]:
    events = (await person.client.get(f"{_url(ticket)}/events")).json()["items"]
    return [(e["kind"], e["actor"]["name"], e["data"].get("to")) for e in events]


class TestSubmitterReplyMovesTheTicket:
    async def test_waiting_goes_back_to_the_agents(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await _ticket_in(accounts, conn, "in_progress", "waiting")

        response = await _reply(accounts.alice, ticket, "Here are the logs you asked for.")

        assert response.status_code == 201
        page = await _page(accounts.alice, ticket)
        assert page["status"] == "in_progress"
        assert page["version"] == ticket.version + 3
        # Recorded like any status change, by the submitter, with the reply.
        assert (await _timeline(accounts.agent, ticket))[-2:] == [
            ("status_changed", "Alice Submitter", "in_progress"),
            ("commented", "Alice Submitter", None),
        ]

    async def test_resolved_reopens(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await _ticket_in(accounts, conn, "in_progress", "resolved")

        response = await _reply(accounts.alice, ticket, "It is still broken on Firefox.")

        assert response.status_code == 201
        page = await _page(accounts.alice, ticket)
        assert (page["status"], page["resolved_at"]) == ("open", None)
        assert ("status_changed", "Alice Submitter", "open") in await _timeline(
            accounts.alice, ticket
        )

    async def test_closed_within_the_window_reopens(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await _ticket_in(accounts, conn, "closed")
        await _closed_days_ago(conn, ticket, 29)
        assert (await _page(accounts.alice, ticket))["reply_refusal"] is None

        response = await _reply(accounts.alice, ticket, "Sorry, it came back today.")

        assert response.status_code == 201
        page = await _page(accounts.alice, ticket)
        assert (page["status"], page["closed_at"]) == ("open", None)

    async def test_closed_past_the_window_is_refused(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await _ticket_in(accounts, conn, "closed")
        await _closed_days_ago(conn, ticket, 31)
        before = await _timeline(accounts.agent, ticket)

        response = await _reply(accounts.alice, ticket, "Sorry, it came back today.")

        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert (problem["code"], problem["field"]) == ("reopen_window_passed", "comment")
        assert "more than 30 days ago" in problem["detail"]
        assert "open a new ticket" in problem["detail"]
        page = await _page(accounts.alice, ticket)
        assert page["status"] == "closed"
        assert page["comments"] == []
        assert page["reply_refusal"] == {"code": problem["code"], "detail": problem["detail"]}
        assert await _timeline(accounts.agent, ticket) == before

    async def test_staff_may_still_reply_past_the_window(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await _ticket_in(accounts, conn, "closed")
        await _closed_days_ago(conn, ticket, 400)
        assert (await _page(accounts.agent, ticket))["reply_refusal"] is None

        response = await _reply(accounts.agent, ticket, "For the record: fixed in 3.0.")

        assert response.status_code == 201
        assert (await _page(accounts.agent, ticket))["status"] == "closed"

    async def test_reopening_by_status_past_the_window_is_refused(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await _ticket_in(accounts, conn, "closed")
        await _closed_days_ago(conn, ticket, 31)
        assert (await _page(accounts.alice, ticket))["transitions"] == []

        response = await accounts.alice.client.put(_url(ticket), json={"status": "open"})

        assert response.status_code == 409
        problem = response.json()
        assert (problem["code"], problem["field"]) == ("reopen_window_passed", "status")
        assert problem["detail"] == (
            "This ticket was closed more than 30 days ago and it can no longer be reopened. "
            "Please open a new ticket instead."
        )
        assert (await _page(accounts.alice, ticket))["status"] == "closed"
        # Staff still may.
        assert (await _page(accounts.agent, ticket))["transitions"] == ["open"]
        staff = await accounts.agent.client.put(_url(ticket), json={"status": "open"})
        assert (staff.status_code, staff.json()["status"]) == (200, "open")

    async def test_reopening_by_status_within_the_window(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await _ticket_in(accounts, conn, "closed")
        await _closed_days_ago(conn, ticket, 29)
        assert (await _page(accounts.alice, ticket))["transitions"] == ["open"]

        response = await accounts.alice.client.put(_url(ticket), json={"status": "open"})

        assert response.status_code == 200
        assert (response.json()["status"], response.json()["closed_at"]) == ("open", None)

    @pytest.mark.parametrize("status", ["open", "in_progress"])
    async def test_a_ticket_with_the_agents_stays(
        self, accounts: Accounts, conn: Connection, status: str
    ) -> None:
        ticket = await _ticket_in(accounts, conn, *([status] if status != "open" else []))

        response = await _reply(accounts.alice, ticket, "Any news?")

        assert response.status_code == 201
        assert (await _page(accounts.alice, ticket))["status"] == status

    async def test_staff_reply_does_not_move_it(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await _ticket_in(accounts, conn, "in_progress", "waiting")

        reply = await _reply(accounts.agent, ticket, "Could you send the logs?")
        note = await _reply(accounts.agent, ticket, "Checked the account.", is_internal=True)

        assert (reply.status_code, note.status_code) == (201, 201)
        assert (await _page(accounts.alice, ticket))["status"] == "waiting"


class TestNoReopenWindow:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"tickets": {"reopen_window_days": 0}}

    async def test_closed_never_reopens(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await _ticket_in(accounts, conn, "closed")

        response = await _reply(accounts.alice, ticket, "One more thing.")

        assert response.status_code == 409
        assert response.json()["detail"] == (
            "This ticket is closed and a reply no longer reopens it. "
            "Please open a new ticket instead."
        )
        assert (await _page(accounts.alice, ticket))["status"] == "closed"

    async def test_closed_cannot_be_reopened_by_status(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await _ticket_in(accounts, conn, "closed")

        response = await accounts.alice.client.put(_url(ticket), json={"status": "open"})

        assert (response.status_code, response.json()["code"]) == (409, "reopen_window_passed")
        assert response.json()["detail"].startswith("This ticket is closed and it can no longer")

    async def test_resolved_still_reopens(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await _ticket_in(accounts, conn, "in_progress", "resolved")

        assert (await _reply(accounts.alice, ticket, "Not fixed.")).status_code == 201
        assert (await _page(accounts.alice, ticket))["status"] == "open"


class TestCustomerReplied:
    async def test_set_by_the_submitter_for_staff_only(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await _ticket_in(accounts, conn, "in_progress", "waiting")
        assert (await _page(accounts.agent, ticket))["customer_replied_at"] is None

        await _reply(accounts.alice, ticket, "Here are the logs.")

        assert (await _page(accounts.agent, ticket))["customer_replied_at"] is not None
        [item] = (await accounts.agent.client.get(TICKETS)).json()["items"]
        assert item["customer_replied_at"] is not None
        # The submitter sees nothing of it.
        assert (await _page(accounts.alice, ticket))["customer_replied_at"] is None
        [own] = (await accounts.alice.client.get(TICKETS)).json()["items"]
        assert own["customer_replied_at"] is None

    async def test_keeps_the_oldest_unanswered_reply(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await _reply(accounts.alice, ticket, "Any news?")
        first = (await _page(accounts.agent, ticket))["customer_replied_at"]

        await _reply(accounts.alice, ticket, "Hello?")

        assert (await _page(accounts.agent, ticket))["customer_replied_at"] == first

    async def test_cleared_by_a_staff_reply(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await _reply(accounts.alice, ticket, "Any news?")

        await _reply(accounts.agent, ticket, "Looking at it now.")

        assert (await _page(accounts.agent, ticket))["customer_replied_at"] is None

    async def test_not_cleared_by_an_internal_note(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await _reply(accounts.alice, ticket, "Any news?")

        note = await _reply(accounts.agent, ticket, "Asked billing.", is_internal=True)
        moved = await accounts.agent.client.put(_url(ticket), json={"status": "in_progress"})

        assert (note.status_code, moved.status_code) == (201, 200)
        assert moved.json()["status"] == "in_progress"
        assert (await _page(accounts.agent, ticket))["customer_replied_at"] is not None


async def _numbers(client: AsyncClient, **params: Any) -> list[int]:
    numbers: list[int] = []
    cursor = None
    while True:
        query = {**params, "limit": 1, **({"cursor": cursor} if cursor else {})}
        response = await client.get(TICKETS, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        numbers += [item["number"] for item in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            return numbers


# Tickets spread over the statuses like a working desk's; every hundredth awaits an answer.
MANY_TICKETS = """
insert into tickets (user_id, type, priority, status, title, description, created_at,
                     updated_at, customer_replied_at)
select %(user_id)s, 'bug', 'medium',
       (array['open', 'in_progress', 'waiting', 'resolved', 'closed'])[1 + g %% 5],
       'Ticket number ' || g, 'Steps to reproduce ticket number ' || g,
       now() - make_interval(mins => g), now() - make_interval(mins => g),
       case when g %% 100 = 0 then now() - make_interval(mins => g) end
from generate_series(1, %(n)s) g
"""


class TestCustomerRepliedFilter:
    @pytest.fixture
    async def replied(self, accounts: Accounts, conn: Connection) -> list[int]:
        """Five tickets; the submitter awaits an answer on the second, third and fifth."""
        tickets = [await create_ticket(conn, accounts.alice) for _ in range(5)]
        for n in (1, 2, 3, 4):
            await _reply(accounts.alice, tickets[n], "Any news?")
        await _reply(accounts.agent, tickets[3], "Tomorrow.")
        return [tickets[n].number for n in (4, 2, 1)]

    async def test_awaiting_an_answer_page_by_page(
        self, accounts: Accounts, replied: list[int]
    ) -> None:
        assert await _numbers(accounts.agent.client, customer_replied="true") == replied
        answered = await _numbers(accounts.agent.client, customer_replied="false")
        assert len(answered) == 2
        assert not set(answered) & set(replied)

    async def test_with_other_filters_and_sorts(
        self, accounts: Accounts, replied: list[int]
    ) -> None:
        client = accounts.admin.client
        numbers = await _numbers(client, customer_replied="true", sort="created")
        assert numbers == sorted(replied)
        assert await _numbers(client, customer_replied="true", status="in_progress") == []

    async def test_submitters_do_not_get_it(self, accounts: Accounts, replied: list[int]) -> None:
        response = await accounts.alice.client.get(TICKETS, params={"customer_replied": "true"})

        assert response.status_code == 403
        assert (response.json()["code"], response.json()["field"]) == (
            "staff_only",
            "customer_replied",
        )

    async def test_the_triage_view_reads_its_index(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        """The SQL the "Customer replied" triage view runs, planned over enough tickets
        (1 in 100 awaiting an answer) that the planner has a real choice."""
        await conn.execute(MANY_TICKETS, {"user_id": accounts.alice.user.id, "n": 20_000})
        await conn.execute("analyze tickets")
        agent = accounts.agent.actor
        view = TicketFilters(status=["open", "in_progress", "waiting"], customer_replied=True)
        first = await listing.list_tickets(
            conn, agent, view, sort="-created", cursor=None, limit=25, reopen_window=WINDOW
        )
        assert len(first.items) == 25
        assert first.next_cursor is not None

        for cursor in (None, first.next_cursor):
            query, params = listing.listing_query(
                agent, view, sort="-created", cursor=cursor, limit=25
            )
            cur = await conn.execute(sql.SQL("explain ") + query, params)
            plan = "\n".join(row["QUERY PLAN"] for row in await cur.fetchall())
            assert "Index Scan Backward using tickets_customer_replied_idx" in plan, plan
