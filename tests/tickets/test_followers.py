"""Following a ticket through the API: who may, what the ticket page then says, and what
a follower who is not staff may read."""

from typing import Any

from httpx import AsyncClient

from tests.factories import Accounts, Person, create_ticket
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.ticket_detail import TicketDetail
from ticketdesk.tickets import followers


async def _detail(person: Person, ticket: TicketDetail) -> dict[str, Any]:
    response = await person.client.get(f"/api/v1/tickets/{ticket.id}")
    assert response.status_code == 200, response.text
    detail: dict[str, Any] = response.json()
    return detail


class TestFollow:
    async def test_an_agent_follows_and_unfollows(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        before = await _detail(accounts.agent, ticket)
        followed = await accounts.agent.client.put(f"/api/v1/tickets/{ticket.number}/follow")
        again = await accounts.agent.client.put(f"/api/v1/tickets/{ticket.id}/follow")
        after = await _detail(accounts.agent, ticket)
        unfollowed = await accounts.agent.client.delete(f"/api/v1/tickets/{ticket.id}/follow")
        last = await _detail(accounts.agent, ticket)

        assert before["following"] is False
        assert before["followers"] == []
        assert followed.status_code == 200
        assert followed.json() == {"following": True}
        assert again.json() == {"following": True}
        [follower] = after["followers"]
        assert after["following"] is True
        assert follower["user"]["id"] == str(accounts.agent.user.id)
        assert follower["via"] == "self"
        assert follower["email"] is None
        assert unfollowed.json() == {"following": False}
        assert last["following"] is False
        assert last["followers"] == []

    async def test_the_submitter_follows_their_own_ticket_until_they_unfollow_it(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        first = await _detail(accounts.alice, ticket)
        unfollowed = await accounts.alice.client.delete(f"/api/v1/tickets/{ticket.id}/follow")
        muted = await _detail(accounts.alice, ticket)
        staff_view = await _detail(accounts.agent, ticket)
        followed = await accounts.alice.client.put(f"/api/v1/tickets/{ticket.id}/follow")
        back = await _detail(accounts.alice, ticket)

        assert first["following"] is True
        # The submitter sees no list of followers: that is for staff.
        assert first["followers"] is None
        assert unfollowed.json() == {"following": False}
        assert muted["following"] is False
        assert staff_view["followers"] == []
        assert followed.json() == {"following": True}
        assert back["following"] is True

    async def test_someone_elses_ticket_is_not_there_to_follow(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        put = await accounts.bob.client.put(f"/api/v1/tickets/{ticket.id}/follow")
        delete = await accounts.bob.client.delete(f"/api/v1/tickets/{ticket.id}/follow")
        missing = await accounts.agent.client.put("/api/v1/tickets/999999/follow")

        assert put.status_code == 404
        assert put.json()["code"] == "ticket_not_found"
        assert delete.status_code == 404
        assert missing.status_code == 404
        assert await followers.list_followers(conn, ticket.id) == []


class TestFollowerWhoIsNotStaff:
    async def test_reads_and_answers_the_public_side_only_and_cannot_change_it(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        note = "Internal: refund approved, do not tell the customer yet."
        for body in (
            {"comment": "Public answer for everyone."},
            {"comment": note, "is_internal": True},
        ):
            response = await accounts.agent.client.post(
                f"/api/v1/tickets/{ticket.id}/comments", json=body
            )
            assert response.status_code == 201
        async with conn.transaction():
            await followers.add_person(conn, ticket.id, accounts.bob.user.id, via="merge")

        detail = await _detail(accounts.bob, ticket)
        comments = await accounts.bob.client.get(f"/api/v1/tickets/{ticket.id}/comments")
        events = await accounts.bob.client.get(f"/api/v1/tickets/{ticket.id}/events")
        files = await accounts.bob.client.get(f"/api/v1/tickets/{ticket.id}/attachments")
        reply = await accounts.bob.client.post(
            f"/api/v1/tickets/{ticket.id}/comments", json={"comment": "Me too"}
        )
        note = await accounts.bob.client.post(
            f"/api/v1/tickets/{ticket.id}/comments",
            json={"comment": "Sneaky note", "is_internal": True},
        )
        upload = await accounts.bob.client.post(
            f"/api/v1/tickets/{ticket.id}/attachments",
            files={"files": ("x.txt", b"hello\n", "text/plain")},
        )
        edit = await accounts.bob.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"title": "Bob renamed this ticket"}
        )
        close = await accounts.bob.client.delete(f"/api/v1/tickets/{ticket.id}/close")
        listed = await accounts.bob.client.get("/api/v1/tickets")

        assert detail["following"] is True
        assert detail["transitions"] == []
        assert detail["reply_refusal"] is None
        assert [c["body"] for c in detail["comments"]] == ["Public answer for everyone."]
        assert [c["body"] for c in comments.json()] == ["Public answer for everyone."]
        assert events.status_code == 200
        assert [
            e["data"].get("is_internal") for e in events.json()["items"] if e["kind"] == "commented"
        ] == [False]
        assert files.status_code == 200
        assert detail["submitter"]["email"] is None
        # A follower's reply is the customer's side: it sends the ticket back to the agents.
        assert reply.status_code == 201
        assert note.status_code == 403
        assert upload.status_code == 404
        assert edit.status_code == 404
        assert close.status_code == 404
        assert listed.json()["items"] == []

    async def test_unfollowing_ends_the_access(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        async with conn.transaction():
            await followers.add_person(conn, ticket.id, accounts.bob.user.id, via="merge")

        unfollowed = await accounts.bob.client.delete(f"/api/v1/tickets/{ticket.id}/follow")
        after = await accounts.bob.client.get(f"/api/v1/tickets/{ticket.id}")

        assert unfollowed.json() == {"following": False}
        assert after.status_code == 404


class TestRemoveFollower:
    async def test_staff_take_an_address_off(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        async with conn.transaction():
            follower_id = await followers.add_address(
                conn, ticket.id, "Carol@Example.org", via="cc"
            )
        assert follower_id is not None

        listed = await _detail(accounts.agent, ticket)
        by_submitter = await accounts.alice.client.delete(
            f"/api/v1/tickets/{ticket.id}/followers/{follower_id}"
        )
        removed = await accounts.agent.client.delete(
            f"/api/v1/tickets/{ticket.id}/followers/{follower_id}"
        )
        again = await accounts.agent.client.delete(
            f"/api/v1/tickets/{ticket.id}/followers/{follower_id}"
        )

        [address] = listed["followers"]
        assert address["email"] == "carol@example.org"
        assert address["user"] is None
        assert address["via"] == "cc"
        assert by_submitter.status_code == 403
        assert removed.status_code == 204
        assert again.status_code == 404
        assert again.json()["code"] == "follower_not_found"
        assert (await _detail(accounts.agent, ticket))["followers"] == []


class TestUnfollowLink:
    async def test_opening_the_link_asks_and_posting_it_stops_the_mail(
        self, accounts: Accounts, anon: AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        async with conn.transaction():
            follower_id = await followers.add_address(
                conn, ticket.id, "dan@partner.example", via="cc"
            )
        assert follower_id is not None
        token = followers.unfollow_token(settings.secret(), follower_id)
        forged = followers.unfollow_token(b"another key", follower_id)

        opened = await anon.get(f"/api/v1/followers/unsubscribe/{token}")
        still = await followers.list_followers(conn, ticket.id)
        refused = await anon.post(f"/api/v1/followers/unsubscribe/{forged}")
        stopped = await anon.post(f"/api/v1/followers/unsubscribe/{token}")
        again = await anon.post(f"/api/v1/followers/unsubscribe/{token}")

        assert opened.status_code == 303
        assert opened.headers["location"].endswith(f"/unfollow/{token}")
        assert [f.email for f in still] == ["dan@partner.example"]
        assert refused.status_code == 404
        assert refused.json()["code"] == "bad_unsubscribe_token"
        assert stopped.status_code == 204
        assert again.status_code == 204
        assert await followers.list_followers(conn, ticket.id) == []
