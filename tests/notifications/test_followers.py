"""Followers and mentions by mail, with the real worker and SMTP server: followers hear
what the submitter hears, a mention tells the agent it names, and no internal note's text
reaches any mailbox."""

import re
from urllib.parse import urlsplit

import pytest

from tests.factories import Accounts, make_user
from tests.jobs.waiting import eventually
from tests.mailservers import SmtpServer
from tests.notifications.conftest import BASE_URL
from tests.notifications.support import (
    assign,
    comment,
    mail_to,
    open_ticket,
    plain,
    set_status,
    settled,
)
from ticketdesk.db import Connection
from ticketdesk.tickets import followers

pytestmark = pytest.mark.usefixtures("worker")

NOTE = "Internal: the refund is approved but finance must sign it off first."


class TestFollowers:
    async def test_a_following_agent_hears_public_replies_and_status_never_notes(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        await settled(conn)
        smtp_server.messages.clear()
        colleague = await make_user(conn, role="agent", name="Cleo Colleague")
        response = await accounts.agent.client.put(f"/api/v1/tickets/{ticket['id']}/follow")
        assert response.status_code == 200

        await comment(accounts.admin, ticket, "We are looking into the export now.")
        await comment(accounts.admin, ticket, NOTE, internal=True)
        await set_status(accounts.admin, ticket, "in_progress")
        await settled(conn)

        to_follower = "\n".join(plain(m) for m in mail_to(smtp_server, accounts.agent))
        assert "We are looking into the export now." in to_follower
        assert "changed the status to in progress" in to_follower
        assert all("refund" not in plain(m) for m in smtp_server.messages)
        to_colleague = [plain(m) for m in smtp_server.messages if colleague.email in m["To"]]
        assert [m for m in to_colleague if "looking into" in m] == []

    async def test_a_submitter_who_unfollowed_hears_nothing_more(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        await settled(conn)
        smtp_server.messages.clear()
        await accounts.alice.client.delete(f"/api/v1/tickets/{ticket['id']}/follow")

        await comment(accounts.agent, ticket, "Could you send a screenshot?")
        await settled(conn)

        assert [m for m in mail_to(smtp_server, accounts.alice) if "screenshot" in plain(m)] == []
        assert any("screenshot" in plain(m) for m in smtp_server.messages) is False

    async def test_a_follower_who_is_not_staff_reads_the_public_reply_as_this_ticket(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        async with conn.transaction():
            await followers.add_person(conn, ticket["id"], accounts.bob.user.id, via="merge")
        await settled(conn)
        smtp_server.messages.clear()

        await comment(accounts.agent, ticket, "Fixed in today's release.")
        await comment(accounts.agent, ticket, NOTE, internal=True)
        await set_status(accounts.agent, ticket, "in_progress")
        await set_status(accounts.agent, ticket, "resolved")
        await settled(conn)

        to_bob = "\n".join(plain(m) for m in mail_to(smtp_server, accounts.bob))
        to_alice = "\n".join(plain(m) for m in mail_to(smtp_server, accounts.alice))
        assert "Fixed in today's release." in to_bob
        assert "marked this ticket resolved" in to_bob
        # Accepting or reopening is the submitter's: only their mail offers it.
        assert "#accept" not in to_bob
        assert "#accept" in to_alice
        assert "refund" not in to_bob

    async def test_a_follower_who_is_not_staff_replies_as_the_customer(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        await assign(accounts.admin, ticket, accounts.agent)
        async with conn.transaction():
            await followers.add_person(conn, ticket["id"], accounts.bob.user.id, via="merge")
        await settled(conn)
        smtp_server.messages.clear()

        await comment(accounts.bob, ticket, "Same here since Monday's update.")
        await settled(conn)

        to_agent = [m for m in mail_to(smtp_server, accounts.agent) if "Monday" in plain(m)]
        to_alice = [m for m in mail_to(smtp_server, accounts.alice) if "Monday" in plain(m)]
        [agent_mail] = to_agent
        assert "Bob Submitter, who follows this ticket, replied:" in plain(agent_mail)
        assert plain(agent_mail).count("Same here since Monday's update.") == 1
        assert "Bob Submitter replied:" in plain(to_alice[0])
        assert [m for m in mail_to(smtp_server, accounts.bob) if "Monday" in plain(m)] == []


class TestMentions:
    async def test_a_mention_tells_the_agent_in_app_and_by_mail_without_the_note(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        colleague = await make_user(
            conn, role="agent", name="Cleo Colleague", email="cleo@support.example.com"
        )
        ticket = await open_ticket(accounts.alice)
        await settled(conn)
        smtp_server.messages.clear()

        text = f"@cleo can you check this? @{accounts.bob.user.email.split('@')[0]} {NOTE}"
        await comment(accounts.agent, ticket, text, internal=True)
        await settled(conn)

        [to_cleo] = [
            m
            for m in smtp_server.messages
            if colleague.email in m["To"] and "mentioned" in plain(m)
        ]
        assert "Aaron Agent mentioned you in an internal note" in plain(to_cleo)
        assert "refund" not in plain(to_cleo)
        # Bob is a submitter: naming him tells no one, and nothing reaches Alice either.
        assert mail_to(smtp_server, accounts.bob) == []
        assert [m for m in mail_to(smtp_server, accounts.alice) if "mention" in plain(m)] == []
        assert all("refund" not in plain(m) for m in smtp_server.messages)

    async def test_mentions_are_listed_and_marked_read(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await open_ticket(accounts.alice, title="Checkout button is missing")
        handle = accounts.agent.user.email.split("@")[0]

        await comment(accounts.admin, ticket, f"Over to you, @{handle}.", internal=True)
        await comment(accounts.admin, ticket, f"Public: thanks @{handle}!")
        listed = await accounts.agent.client.get("/api/v1/me/mentions")
        read = await accounts.agent.client.post("/api/v1/me/mentions/read")
        after = await accounts.agent.client.get("/api/v1/me/mentions")
        by_submitter = await accounts.alice.client.get("/api/v1/me/mentions")

        page = listed.json()
        [mention] = page["items"]
        assert page["unread"] == 1
        assert mention["ticket_number"] == ticket["number"]
        assert mention["ticket_title"] == "Checkout button is missing"
        assert mention["author"]["name"] == "Ada Admin"
        assert mention["read_at"] is None
        assert read.status_code == 204
        assert after.json()["unread"] == 0
        assert after.json()["items"][0]["read_at"] is not None
        assert by_submitter.json() == {"items": [], "unread": 0, "next_cursor": None}


class TestAddressFollowers:
    async def test_an_address_hears_public_replies_and_can_stop_them(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        async with conn.transaction():
            await followers.add_address(conn, ticket["id"], "carol@partner.example", via="cc")
        await settled(conn)
        smtp_server.messages.clear()

        await comment(accounts.agent, ticket, "The fix ships on Monday.")
        await comment(accounts.agent, ticket, NOTE, internal=True)

        def to_carol() -> list[object]:
            return [m for m in smtp_server.messages if m["To"] == "carol@partner.example"]

        await eventually(lambda: _true(len(to_carol()) == 1), what="the mail to carol")
        await settled(conn)
        [mail] = [m for m in smtp_server.messages if m["To"] == "carol@partner.example"]
        assert "The fix ships on Monday." in plain(mail)
        assert "refund" not in plain(mail)
        assert "Reply-To" not in mail
        link = re.fullmatch(r"<(https://[^>]+)>", mail["List-Unsubscribe"])
        assert link
        assert link[1].startswith(BASE_URL)
        assert f"{BASE_URL}/unfollow/" in plain(mail)

        stop = await accounts.bob.client.post(urlsplit(link[1]).path)
        await comment(accounts.agent, ticket, "Monday it is, confirmed.")
        await settled(conn)

        assert stop.status_code == 204
        assert all("confirmed" not in plain(m) for m in smtp_server.messages if "carol" in m["To"])
        detail = await accounts.agent.client.get(f"/api/v1/tickets/{ticket['id']}")
        assert detail.json()["followers"] == []


async def _true(value: bool) -> bool:
    return value
