"""Mail about tickets, end to end: the API makes changes, the real worker sends to a real
SMTP server, and the tests read what each person received."""

import asyncio
import re
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import pytest
from httpx import AsyncClient

from tests.factories import Accounts
from tests.jobs.waiting import eventually
from tests.mailservers import SmtpServer
from tests.notifications.conftest import BASE_URL, mail_settings
from tests.notifications.support import (
    assign,
    comment,
    html,
    mail_to,
    open_ticket,
    plain,
    set_status,
    settled,
)
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.mail import addresses
from ticketdesk.notifications.service import unsubscribe_token

pytestmark = pytest.mark.usefixtures("worker")

NOTE = "Internal: the customer's card was declined twice, do not mention it."


def _unsubscribe_path(message: Any) -> str:
    header = message["List-Unsubscribe"]
    match = re.fullmatch(r"<(https://[^>]+)>", header)
    assert match, header
    assert match[1].startswith(BASE_URL)
    return urlsplit(match[1]).path


class TestNewTicket:
    async def test_receipt_to_the_submitter_and_news_to_staff(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer, settings: Settings
    ) -> None:
        ticket = await open_ticket(accounts.alice, title="Invoices show the wrong VAT")
        await settled(conn)

        [receipt] = mail_to(smtp_server, accounts.alice)
        [to_agent] = mail_to(smtp_server, accounts.agent)
        [to_admin] = mail_to(smtp_server, accounts.admin)
        number, ticket_id = ticket["number"], UUID(ticket["id"])
        thread = f"<ticket-{ticket_id}@example.com>"

        assert mail_to(smtp_server, accounts.bob) == []
        assert receipt["Subject"] == f"[#{number}] Invoices show the wrong VAT"
        assert f"We received your ticket #{number}" in plain(receipt)
        assert f"{BASE_URL}/tickets/{number}" in plain(receipt)
        assert f'href="{BASE_URL}/tickets/{number}"' in html(receipt)
        assert "Alice Submitter opened a new bug ticket" in plain(to_agent)
        assert ticket["description"] in plain(to_admin)
        for message in (receipt, to_agent, to_admin):
            assert message["From"] == "Help Desk <support@example.com>"
            assert message["In-Reply-To"] == thread
            assert message["References"] == thread
            assert message["Reply-To"] == addresses.reply_address(
                settings.mail_from, settings.secret(), number
            )
            assert addresses.ticket_in_thread(message["Message-ID"], "example.com") == ticket_id
            assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            assert _unsubscribe_path(message).startswith("/api/v1/notifications/unsubscribe/")
            assert f"{BASE_URL}/profile/notifications" in plain(message)
            assert message["Auto-Submitted"] == "auto-generated"
        assert len({m["Message-ID"] for m in (receipt, to_agent, to_admin)}) == 3

    async def test_staff_who_open_a_ticket_are_not_told_of_it(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        await open_ticket(accounts.agent)
        await settled(conn)

        assert [m["Subject"] for m in mail_to(smtp_server, accounts.admin)] != []
        # The receipt only: no "new ticket" news about one's own ticket.
        [receipt] = mail_to(smtp_server, accounts.agent)
        assert "We received your ticket" in plain(receipt)
        assert "opened a new" not in plain(receipt)


class TestLineBreaks:
    async def test_a_title_and_a_name_with_line_breaks_still_mail(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        renamed = await accounts.admin.client.patch(
            f"/api/v1/users/{accounts.alice.user.id}", json={"name": "Alice\r\nBcc: x@evil.test"}
        )
        ticket = await open_ticket(accounts.alice, title="Printer on floor 2\nprints blank pages")
        await settled(conn)
        failed = await accounts.admin.client.get("/api/v1/admin/mail")

        assert renamed.status_code == 200
        [receipt] = mail_to(smtp_server, accounts.alice)
        assert receipt["Subject"] == f"[#{ticket['number']}] Printer on floor 2 prints blank pages"
        assert "Bcc" not in receipt
        assert receipt["To"] == f'"Alice  Bcc: x@evil.test" <{accounts.alice.user.email}>'
        assert len(mail_to(smtp_server, accounts.agent)) == 1
        assert failed.json()["items"] == []

    async def test_a_mail_that_cannot_be_put_together_fails_alone(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        await settled(conn)
        # A reply notification that lost the comment it is about, left pending.
        async with conn.transaction():
            await conn.execute(
                "with m as (insert into notification_mails (ticket_id, recipient_id, message_id)"
                " values (%(t)s, %(r)s, '<broken@example.com>') returning id)"
                " insert into notifications (ticket_id, recipient_id, kind, data, mail_id)"
                " select %(t)s, %(r)s, 'reply', '{}', id from m",
                {"t": ticket["id"], "r": accounts.alice.user.id},
            )

        await comment(accounts.agent, ticket, "A reply after the broken mail.")
        await settled(conn)
        failed = await accounts.admin.client.get("/api/v1/admin/mail")

        [broken] = failed.json()["items"]
        assert broken["recipient_email"] == accounts.alice.user.email
        assert broken["kinds"] == ["reply"]
        assert "KeyError" in broken["error"]
        [_, reply] = mail_to(smtp_server, accounts.alice)
        assert "A reply after the broken mail." in plain(reply)


class TestConversation:
    async def test_replies_reach_the_submitter_notes_reach_no_one(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        await settled(conn)
        await assign(accounts.admin, ticket, accounts.agent)
        await settled(conn)
        before = len(smtp_server.messages)

        await comment(accounts.agent, ticket, NOTE, internal=True)
        await comment(accounts.agent, ticket, "Could you tell us which browser you use?")
        await settled(conn)
        await comment(accounts.alice, ticket, "Firefox 128 on Linux.")
        await settled(conn)

        new = smtp_server.messages[before:]
        to_alice = [m for m in new if m in mail_to(smtp_server, accounts.alice)]
        to_agent = [m for m in new if m in mail_to(smtp_server, accounts.agent)]
        assert len(new) == 2
        [reply] = to_alice
        assert "Aaron Agent replied:" in plain(reply)
        assert "Could you tell us which browser you use?" in plain(reply)
        assert "Could you tell us which browser you use?" in html(reply)
        [submitter_replied] = to_agent
        assert "Alice Submitter, who opened this ticket, replied:" in plain(submitter_replied)
        assert "Firefox 128 on Linux." in plain(submitter_replied)
        # Nobody is told of their own reply, the admin of neither.
        assert mail_to(smtp_server, accounts.admin)[1:] == []
        for message in smtp_server.messages:
            assert "card was declined" not in plain(message)
            assert "card was declined" not in html(message)

    async def test_markup_is_escaped_in_html_and_kept_in_text(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        title = "Totals <script>alert(1)</script> & VAT wrong"
        ticket = await open_ticket(accounts.alice, title=title)
        await settled(conn)
        await comment(accounts.agent, ticket, "Try <b>this</b> & <script>steal()</script> now.")
        await settled(conn)

        receipt, reply = mail_to(smtp_server, accounts.alice)
        assert receipt["Subject"] == f"[#{ticket['number']}] {title}"
        assert title in plain(receipt)
        assert "Try <b>this</b> & <script>steal()</script> now." in plain(reply)
        assert "Totals &lt;script&gt;alert(1)&lt;/script&gt; &amp; VAT wrong" in html(receipt)
        assert "Try &lt;b&gt;this&lt;/b&gt; &amp; &lt;script&gt;steal()&lt;/script&gt; now." in (
            html(reply)
        )
        for message in (receipt, reply):
            assert "<script>" not in html(message)
            assert "<b>" not in html(message)

    async def test_a_submitter_reply_on_an_unassigned_ticket_is_mailed_to_no_one(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        await settled(conn)
        before = len(smtp_server.messages)

        await comment(accounts.alice, ticket, "Adding a screenshot description: it is blank.")
        await settled(conn)

        assert smtp_server.messages[before:] == []
        cur = await conn.execute(
            "select count(*) as n from notifications where kind = 'submitter_replied'"
        )
        assert await cur.fetchone() == {"n": 0}

    async def test_assigned_to_you(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        await settled(conn)
        before = len(smtp_server.messages)

        await assign(accounts.admin, ticket, accounts.agent)
        await settled(conn)
        await assign(accounts.admin, ticket, accounts.admin)
        await settled(conn)

        [assigned] = smtp_server.messages[before:]
        assert assigned in mail_to(smtp_server, accounts.agent)
        assert "Ada Admin assigned this ticket to you" in plain(assigned)

    async def test_assigned_to_you_by_a_rule(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        made = await accounts.admin.client.post(
            "/api/v1/teams",
            json={"name": "Billing", "member_ids": [str(accounts.agent.user.id)]},
        )
        await accounts.admin.client.post(
            "/api/v1/assignment-rules",
            json={
                "name": "Everything to billing",
                "actions": {"team_id": made.json()["id"], "round_robin": True},
            },
        )

        await open_ticket(accounts.alice)
        await settled(conn)

        [assigned] = [
            m for m in mail_to(smtp_server, accounts.agent) if "assigned this ticket" in plain(m)
        ]
        assert "The assignment rule “Everything to billing” assigned this ticket to you" in plain(
            assigned
        )

    async def test_staff_bookkeeping_mails_the_submitter_nothing(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        await settled(conn)
        before = len(mail_to(smtp_server, accounts.alice))
        agent_before = len(mail_to(smtp_server, accounts.agent))

        triaged = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket['id']}", json={"priority": "critical", "type": "feature"}
        )
        assert triaged.status_code == 200, triaged.text
        await assign(accounts.admin, ticket, accounts.agent)
        await settled(conn)

        # Type, priority and assignment are for staff, in mail as on the timeline.
        assert len(mail_to(smtp_server, accounts.alice)) == before
        assert len(mail_to(smtp_server, accounts.agent)) == agent_before + 1


class TestStatus:
    async def test_resolved_offers_accept_and_reopen_and_closing_is_told(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        await settled(conn)
        await set_status(accounts.agent, ticket, "in_progress")
        await settled(conn)
        await set_status(accounts.agent, ticket, "resolved")
        await settled(conn)
        # The submitter's own action: accepting the resolution tells no one.
        closed = await accounts.alice.client.delete(f"/api/v1/tickets/{ticket['id']}/close")
        await settled(conn)
        await set_status(accounts.agent, ticket, "open")
        await settled(conn)
        await set_status(accounts.agent, ticket, "closed")
        await settled(conn)

        assert closed.status_code == 200
        _, in_progress, resolved, reopened, closed_mail = mail_to(smtp_server, accounts.alice)
        url = f"{BASE_URL}/tickets/{ticket['number']}"
        assert "Aaron Agent changed the status to in progress." in plain(in_progress)
        assert "Aaron Agent marked your ticket resolved." in plain(resolved)
        assert f"accept the resolution: {url}#accept" in plain(resolved)
        assert f"reopen it: {url}#reopen" in plain(resolved)
        assert f'href="{url}#accept"' in html(resolved)
        assert "changed the status to open" in plain(reopened)
        assert "Aaron Agent closed your ticket." in plain(closed_mail)
        assert mail_to(smtp_server, accounts.agent)[1:] == []


class TestBurst:
    @pytest.fixture
    def settings_overrides(self, smtp_server: SmtpServer) -> dict[str, Any]:
        return mail_settings(smtp_server, burst_seconds=3.0)

    async def test_three_changes_in_a_row_are_one_mail(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        await settled(conn)
        before = len(mail_to(smtp_server, accounts.alice))

        await comment(accounts.agent, ticket, "Looking into it now.")
        await set_status(accounts.agent, ticket, "in_progress")
        await comment(accounts.agent, ticket, "Found it: a rounding error in the export.")
        await settled(conn)

        [mail] = mail_to(smtp_server, accounts.alice)[before:]
        text = plain(mail)
        assert text.index("Looking into it now.") < text.index("changed the status to in progress")
        assert text.index("in progress") < text.index("Found it: a rounding error")

    async def test_what_changed_during_the_burst_counts(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        other = await open_ticket(accounts.bob)
        await settled(conn)
        before = len(smtp_server.messages)

        await comment(accounts.agent, ticket, "A reply Alice no longer wants by mail.")
        await comment(accounts.agent, other, "A reply to someone who has left.")
        turned_off = await accounts.alice.client.put(
            "/api/v1/me/notifications", json={"kinds": [{"kind": "reply", "enabled": False}]}
        )
        left = await accounts.admin.client.patch(
            f"/api/v1/users/{accounts.bob.user.id}", json={"is_active": False}
        )
        await settled(conn)
        cur = await conn.execute("select status from notification_mails order by created_at")
        statuses = [row["status"] for row in await cur.fetchall()]

        assert turned_off.status_code == 200
        assert left.status_code == 200
        assert smtp_server.messages[before:] == []
        assert statuses[-2:] == ["cancelled", "cancelled"]

    async def test_an_agent_demoted_during_the_burst_hears_nothing_of_new_tickets(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        await open_ticket(accounts.alice)
        demoted = await accounts.admin.client.patch(
            f"/api/v1/users/{accounts.agent.user.id}", json={"role": "user"}
        )
        await settled(conn)

        assert demoted.status_code == 200
        assert mail_to(smtp_server, accounts.agent) == []
        assert len(mail_to(smtp_server, accounts.admin)) == 1

    async def test_an_agent_deactivated_during_the_burst_hears_nothing_of_assignments(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        ticket = await open_ticket(accounts.bob)
        await settled(conn)
        before = len(mail_to(smtp_server, accounts.agent))

        await assign(accounts.admin, ticket, accounts.agent)
        left = await accounts.admin.client.patch(
            f"/api/v1/users/{accounts.agent.user.id}", json={"is_active": False}
        )
        await settled(conn)

        assert left.status_code == 200
        assert mail_to(smtp_server, accounts.agent)[before:] == []

    async def test_a_ticket_taken_away_within_the_burst_is_not_news(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        await settled(conn)
        before = len(mail_to(smtp_server, accounts.agent))

        await assign(accounts.admin, ticket, accounts.agent)
        await comment(accounts.alice, ticket, "Any news on this one?")
        await assign(accounts.admin, ticket, accounts.admin)
        await settled(conn)

        assert mail_to(smtp_server, accounts.agent)[before:] == []
        cur = await conn.execute(
            "select status from notification_mails where recipient_id = %s"
            " order by created_at desc limit 1",
            (accounts.agent.user.id,),
        )
        assert await cur.fetchone() == {"status": "cancelled"}


class TestConcurrentChanges:
    @pytest.fixture
    def settings_overrides(self, smtp_server: SmtpServer) -> dict[str, Any]:
        # Bursts end while further changes are still arriving.
        return mail_settings(smtp_server, burst_seconds=0.05)

    async def test_every_reply_is_mailed_exactly_once(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        await settled(conn)
        before = len(mail_to(smtp_server, accounts.alice))
        replies = [f"Update number {n:02d} from the team." for n in range(12)]

        # Three at a time: the test app's connection pool is small.
        for wave in (replies[0:3], replies[3:6], replies[6:9], replies[9:12]):
            await asyncio.gather(*(comment(accounts.agent, ticket, text) for text in wave))
            await asyncio.sleep(0.05)
        await settled(conn)

        mails = mail_to(smtp_server, accounts.alice)[before:]
        texts = [plain(m) for m in mails]
        assert 1 <= len(mails) <= len(replies)
        assert {text: sum(t.count(text) for t in texts) for text in replies} == dict.fromkeys(
            replies, 1
        )
        assert len({m["Message-ID"] for m in mails}) == len(mails)


class TestChoices:
    async def test_turned_off_by_api(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        await settled(conn)
        before = len(smtp_server.messages)

        turned = await accounts.alice.client.put(
            "/api/v1/me/notifications", json={"kinds": [{"kind": "reply", "enabled": False}]}
        )
        await comment(accounts.agent, ticket, "Please try again now.")
        await set_status(accounts.agent, ticket, "in_progress")
        await settled(conn)
        read = await accounts.alice.client.get("/api/v1/me/notifications")

        assert turned.status_code == 200
        assert read.json() == turned.json()
        kinds = {k["kind"]: k["enabled"] for k in read.json()["kinds"]}
        assert kinds == {
            "ticket_created": True,
            "reply": False,
            "status_changed": True,
            "resolved": True,
            "closed": True,
        }
        [status_only] = smtp_server.messages[before:]
        assert "Please try again now." not in plain(status_only)
        assert "changed the status to in progress" in plain(status_only)

    async def test_staff_kinds_are_for_staff(self, accounts: Accounts) -> None:
        as_user = await accounts.alice.client.put(
            "/api/v1/me/notifications", json={"kinds": [{"kind": "new_ticket", "enabled": False}]}
        )
        as_agent = await accounts.agent.client.put(
            "/api/v1/me/notifications", json={"kinds": [{"kind": "escalation", "enabled": False}]}
        )
        agent_kinds = await accounts.agent.client.get("/api/v1/me/notifications")
        admin_kinds = await accounts.admin.client.get("/api/v1/me/notifications")

        assert as_user.status_code == 403
        assert as_user.json()["field"] == "kinds.0.kind"
        assert as_agent.status_code == 403
        assert as_agent.json()["field"] == "kinds.0.kind"
        assert agent_kinds.json()["mail_enabled"] is True
        assert "assigned" in [k["kind"] for k in agent_kinds.json()["kinds"]]
        assert "escalation" not in [k["kind"] for k in agent_kinds.json()["kinds"]]
        assert "escalation" in [k["kind"] for k in admin_kinds.json()["kinds"]]

    async def test_anonymous(self, anon: AsyncClient) -> None:
        assert (await anon.get("/api/v1/me/notifications")).status_code == 401

    async def test_one_click_unsubscribe(
        self, accounts: Accounts, anon: AsyncClient, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        await settled(conn)
        await comment(accounts.agent, ticket, "First answer.")
        await settled(conn)
        reply = mail_to(smtp_server, accounts.alice)[-1]
        path = _unsubscribe_path(reply)

        opened = await anon.get(path)
        tampered_path = path[:-1] + ("0" if path[-1] != "0" else "1")
        tampered = await anon.post(tampered_path)
        tampered_opened = await anon.get(tampered_path)
        # What mail clients send (RFC 8058), with no cookie and no CSRF token.
        clicked = await anon.post(
            path,
            content="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        await comment(accounts.agent, ticket, "Second answer.")
        await set_status(accounts.agent, ticket, "in_progress")
        await settled(conn)
        kinds = await accounts.alice.client.get("/api/v1/me/notifications")

        assert opened.status_code == 303
        assert opened.headers["location"] == f"{BASE_URL}/unsubscribe/" + path.rsplit("/", 1)[1]
        assert tampered.status_code == 404
        assert tampered_opened.status_code == 404
        assert clicked.status_code == 200
        assert clicked.json()["kinds"] == [
            {"kind": "reply", "label": "A public reply on my ticket", "enabled": False}
        ]
        assert {k["kind"]: k["enabled"] for k in kinds.json()["kinds"]}["reply"] is False
        last = mail_to(smtp_server, accounts.alice)[-1]
        assert "Second answer." not in plain(last)
        assert "changed the status to in progress" in plain(last)

    async def test_an_unsubscribe_token_is_bound_to_its_user_and_kinds(
        self, accounts: Accounts, anon: AsyncClient, settings: Settings
    ) -> None:
        token = unsubscribe_token(settings.secret(), accounts.alice.user.id, ["reply"])
        payload, signature = token.rsplit(".", 1)
        _, kinds = payload.split(".", 1)
        other_user = f"{accounts.bob.user.id.hex}.{kinds}.{signature}"
        other_kinds = f"{accounts.alice.user.id.hex}.reply-status_changed.{signature}"

        refused = [
            (await anon.post(f"/api/v1/notifications/unsubscribe/{t}")).status_code
            for t in (other_user, other_kinds)
        ]
        alice = await accounts.alice.client.get("/api/v1/me/notifications")
        bob = await accounts.bob.client.get("/api/v1/me/notifications")

        assert refused == [404, 404]
        assert all(k["enabled"] for k in alice.json()["kinds"])
        assert all(k["enabled"] for k in bob.json()["kinds"])


class TestDelivery:
    async def test_smtp_down_and_back_delivers_once(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        smtp_server.stop()
        ticket = await open_ticket(accounts.alice)

        async def retried() -> bool:
            cur = await conn.execute(
                "select max(attempts) as attempts from notification_mails"
                " where last_error is not null"
            )
            row = await cur.fetchone()
            return bool(row and row["attempts"] and row["attempts"] >= 2)

        await eventually(retried, what="sending to fail and be retried")
        smtp_server.start()
        await settled(conn)

        receipts = mail_to(smtp_server, accounts.alice)
        assert len(receipts) == 1
        assert f"[#{ticket['number']}]" in receipts[0]["Subject"]
        assert len(mail_to(smtp_server, accounts.agent)) == 1
        assert len(mail_to(smtp_server, accounts.admin)) == 1

    async def test_refused_mail_is_listed_for_admins(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        smtp_server.refuse(550)
        ticket = await open_ticket(accounts.alice)
        await settled(conn)

        listed = await accounts.admin.client.get("/api/v1/admin/mail")
        as_agent = await accounts.agent.client.get("/api/v1/admin/mail")
        jobs = await accounts.admin.client.get("/api/v1/admin/jobs")

        assert as_agent.status_code == 403
        assert listed.status_code == 200
        items = listed.json()["items"]
        assert {i["recipient_email"] for i in items} == {
            accounts.alice.user.email,
            accounts.agent.user.email,
            accounts.admin.user.email,
        }
        receipt = next(i for i in items if i["recipient_email"] == accounts.alice.user.email)
        assert receipt["ticket_number"] == ticket["number"]
        assert receipt["kinds"] == ["ticket_created"]
        assert "550" in receipt["error"]
        assert {j["task_name"] for j in jobs.json()["items"]} == {"notifications.send"}

        smtp_server.refuse(None)
        await comment(accounts.agent, ticket, "We are on it.")
        await settled(conn)
        # A refusal is final: the refused receipt is not sent again with the next mail.
        [reply] = mail_to(smtp_server, accounts.alice)
        assert "We are on it." in plain(reply)


class TestOutage:
    @pytest.fixture
    def settings_overrides(self, smtp_server: SmtpServer) -> dict[str, Any]:
        overrides = mail_settings(smtp_server)
        overrides["jobs"]["max_attempts"] = 2
        return overrides

    async def test_mail_given_up_on_is_listed_and_can_be_sent_again(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        smtp_server.stop()
        ticket = await open_ticket(accounts.alice, title="Nothing reaches the printer")
        await settled(conn)
        listed = await accounts.admin.client.get("/api/v1/admin/mail")
        smtp_server.start()

        items = listed.json()["items"]
        assert {i["recipient_email"] for i in items} == {
            accounts.alice.user.email,
            accounts.agent.user.email,
            accounts.admin.user.email,
        }
        receipt = next(i for i in items if i["recipient_email"] == accounts.alice.user.email)
        assert receipt["attempts"] == 2
        assert receipt["error"]
        retried = await accounts.admin.client.post(f"/api/v1/admin/mail/{receipt['id']}/retry")
        again = await accounts.admin.client.post(f"/api/v1/admin/mail/{receipt['id']}/retry")
        by_agent = await accounts.agent.client.post(f"/api/v1/admin/mail/{receipt['id']}/retry")
        unknown = await accounts.admin.client.post(f"/api/v1/admin/mail/{UUID(int=1)}/retry")
        await settled(conn)
        after = await accounts.admin.client.get("/api/v1/admin/mail")

        assert retried.status_code == 200
        assert retried.json() == {"id": receipt["id"], "status": "pending"}
        assert again.status_code == 409
        assert by_agent.status_code == 403
        assert unknown.status_code == 404
        [mail] = mail_to(smtp_server, accounts.alice)
        assert mail["Subject"] == f"[#{ticket['number']}] Nothing reaches the printer"
        assert mail_to(smtp_server, accounts.agent) == []
        assert len(after.json()["items"]) == 2
