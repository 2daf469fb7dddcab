"""A reply to a notification lands on its ticket as a public comment by its sender."""

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from tests.attachments.samples import EXECUTABLE, PNG
from tests.factories import Accounts, create_ticket
from tests.mailbox.mailroom import SUPPORT, Mailbox, conversation, inbound, mail, reply_values
from tests.mailservers import ImapServer
from ticketdesk.db import Connection
from ticketdesk.mail.addresses import reply_address


class TestMatched:
    async def test_thunderbird_reply_by_reply_address(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        values = reply_values(mailbox.settings, ticket, accounts.alice)
        # Threading headers are left out: only the signed address points at the ticket.
        raw = mail("thunderbird-reply.eml", **{**values, "thread": "<unrelated@example.com>"})

        assert await mailbox.deliver(raw) == 1

        [comment] = await conversation(accounts.agent, ticket)
        assert comment["author"]["id"] == str(accounts.alice.user.id)
        assert comment["is_internal"] is False
        assert comment["body"] == (
            "Thanks — clearing the browser cache fixed the export. The CSV now opens\n"
            "in Excel with the umlauts intact (Müller, Größe)."
        )
        assert mailbox.server.unseen() == 0

    async def test_gmail_reply_by_thread_headers(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        values = reply_values(mailbox.settings, ticket, accounts.alice)
        # Sent to the plain support address: only In-Reply-To/References point at the ticket.
        raw = mail("gmail-reply.eml", **{**values, "reply_to": SUPPORT})

        await mailbox.deliver(raw)

        [comment] = await conversation(accounts.alice, ticket)
        assert comment["body"] == (
            "Still broken on Chrome 131, sorry. The network tab shows a 500 for\n"
            "/api/reports/7/export.\n\nAlice"
        )

    async def test_outlook_html_only(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        await mailbox.deliver(
            mail("outlook-html-only.eml", **reply_values(mailbox.settings, ticket, accounts.alice))
        )

        [comment] = await conversation(accounts.alice, ticket)
        assert (
            "The export works again after the update. **Thank you** for the quick help!"
            in (comment["body"])
        )
        assert "Best regards" not in comment["body"]
        assert "Could you clear your browser cache" not in comment["body"]
        assert "MsoNormal" not in comment["body"]

    async def test_staff_reply_by_mail(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        await mailbox.deliver(
            mail("thunderbird-reply.eml", **reply_values(mailbox.settings, ticket, accounts.agent))
        )

        [comment] = await conversation(accounts.alice, ticket)
        assert comment["author"]["id"] == str(accounts.agent.user.id)

    async def test_recorded_on_the_timeline(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        await mailbox.deliver(
            mail("gmail-reply.eml", **reply_values(mailbox.settings, ticket, accounts.alice))
        )

        response = await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}/events")
        kinds = [event["kind"] for event in response.json()["items"]]
        assert "commented" in kinds


class TestMovesTheTicket:
    """A reply by mail is a reply like any other: it does what the comments service does."""

    async def test_waiting_ticket_goes_back_to_the_agents(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        url = f"/api/v1/tickets/{ticket.id}"
        for status in ("in_progress", "waiting"):
            response = await accounts.agent.client.put(url, json={"status": status})
            assert response.status_code == 200, response.text

        await mailbox.deliver(
            mail("gmail-reply.eml", **reply_values(mailbox.settings, ticket, accounts.alice))
        )

        page = (await accounts.agent.client.get(url)).json()
        assert page["status"] == "in_progress"
        assert page["customer_replied_at"] is not None

    async def test_long_closed_ticket_takes_no_reply(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        response = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"status": "closed"}
        )
        assert response.status_code == 200, response.text
        async with conn.transaction():
            await conn.execute(
                "update tickets set closed_at = %(at)s where id = %(id)s",
                {"at": datetime.now(UTC) - timedelta(days=31), "id": ticket.id},
            )

        await mailbox.deliver(
            mail("gmail-reply.eml", **reply_values(mailbox.settings, ticket, accounts.alice))
        )

        assert await conversation(accounts.agent, ticket) == []
        [refused] = await inbound(accounts, "refused")
        assert "more than 30 days ago" in refused["reason"]


class TestStaffReplyMovesToWaiting:
    """With ``tickets.reply_moves_to_waiting`` a staff reply by mail sets the ticket waiting;
    the note of files refused on a ticket opened by mail is no reply."""

    @pytest.fixture
    def settings_overrides(self, imap_server: ImapServer) -> dict[str, Any]:
        return {
            "imap_url": imap_server.url,
            "mail_from": f"Ticketdesk <{SUPPORT}>",
            "mail": {"open_tickets_by_mail": True},
            "tickets": {"reply_moves_to_waiting": True},
        }

    async def test_a_staff_reply(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        await mailbox.deliver(
            mail("thunderbird-reply.eml", **reply_values(mailbox.settings, ticket, accounts.agent))
        )

        page = (await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}")).json()
        assert page["status"] == "waiting"

    async def test_not_the_note_on_a_ticket_staff_open_by_mail(
        self, mailbox: Mailbox, accounts: Accounts
    ) -> None:
        raw = _with_files(
            "The printer at the front desk is jammed again.",
            [("**setup**.exe", "application/octet-stream", EXECUTABLE)],
            From=accounts.agent.user.email,
            To=SUPPORT,
            Subject="Front desk printer jammed",
            Message_ID="<staff-opens-1@example.com>",
        )

        await mailbox.deliver(raw)

        [ticket] = (await accounts.agent.client.get("/api/v1/tickets")).json()["items"]
        assert ticket["title"] == "Front desk printer jammed"
        page = (await accounts.agent.client.get(f"/api/v1/tickets/{ticket['id']}")).json()
        assert [c["body"][:20] for c in page["comments"]] == ["_Files of this mail "]
        assert page["status"] == "open"


class TestRefused:
    async def test_forged_reply_address(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        values = reply_values(mailbox.settings, ticket, accounts.bob)
        forged = f"support+t{ticket.number}-0123456789abcdef@example.com"

        await mailbox.deliver(
            mail("thunderbird-reply.eml", **{**values, "reply_to": forged, "thread": "<x@y>"})
        )

        assert await conversation(accounts.agent, ticket) == []
        [refused] = await inbound(accounts, "refused")
        assert refused["sender"] == accounts.bob.user.email
        assert "is not one ticketdesk gave out" in refused["reason"]

    async def test_another_tickets_signature(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        bobs = await create_ticket(conn, accounts.bob)
        alices = await create_ticket(conn, accounts.alice)
        # Bob's own reply address, its number changed to Alice's ticket.
        settings = mailbox.settings
        signature = reply_address(settings.mail_from, settings.secret(), bobs.number)
        forged = signature.replace(f"+t{bobs.number}-", f"+t{alices.number}-")
        values = reply_values(mailbox.settings, alices, accounts.bob)

        await mailbox.deliver(
            mail("thunderbird-reply.eml", **{**values, "reply_to": forged, "thread": "<x@y>"})
        )

        assert await conversation(accounts.agent, alices) == []
        assert await conversation(accounts.agent, bobs) == []

    async def test_stranger(self, mailbox: Mailbox, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        values = reply_values(mailbox.settings, ticket, accounts.alice)

        await mailbox.deliver(
            mail("gmail-reply.eml", **{**values, "sender": "mallory@example.org"})
        )

        assert await conversation(accounts.agent, ticket) == []
        [refused] = await inbound(accounts, "refused")
        assert refused["reason"] == "mallory@example.org has no account here"
        assert mailbox.server.unseen() == 0

    @pytest.mark.parametrize(
        "header",
        [
            # Alice and someone else as authors: neither alone is the sender.
            "From: Alice <{sender}>, Mallory <mallory@example.org>",
            # Two From headers: which one a client shows differs.
            "From: Mallory <mallory@example.org>\r\nFrom: Alice <{sender}>",
            "From: Alice <{sender}>\r\nFrom: Mallory <mallory@example.org>",
            "From: undisclosed-senders:;",
        ],
    )
    async def test_not_exactly_one_sender(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection, header: str
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        values = reply_values(mailbox.settings, ticket, accounts.alice)
        raw = mail("gmail-reply.eml", **values).replace(
            f"From: Alice Submitter <{accounts.alice.user.email}>".encode(),
            header.format(sender=accounts.alice.user.email).encode(),
        )

        await mailbox.deliver(raw)

        assert await conversation(accounts.agent, ticket) == []
        [refused] = await inbound(accounts, "refused")
        assert refused["reason"] == "the mail does not name exactly one sender in From"

    async def test_another_submitter(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        await mailbox.deliver(
            mail("gmail-reply.eml", **reply_values(mailbox.settings, ticket, accounts.bob))
        )

        assert await conversation(accounts.agent, ticket) == []
        [refused] = await inbound(accounts, "refused")
        assert "is neither the submitter" in refused["reason"]


class TestIgnored:
    async def test_out_of_office(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        await mailbox.deliver(
            mail("out-of-office.eml", **reply_values(mailbox.settings, ticket, accounts.alice))
        )

        assert await conversation(accounts.agent, ticket) == []
        [ignored] = await inbound(accounts, "ignored")
        assert ignored["reason"] == "an automatic message (Auto-Submitted: auto-replied)"

    @pytest.mark.parametrize("sender", [SUPPORT, "Support+T12-0123456789abcdef@example.com"])
    async def test_sent_by_ticketdesk_itself(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection, sender: str
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        values = reply_values(mailbox.settings, ticket, accounts.alice)

        await mailbox.deliver(mail("gmail-reply.eml", **{**values, "sender": sender}))

        assert await conversation(accounts.agent, ticket) == []
        [ignored] = await inbound(accounts, "ignored")
        assert ignored["reason"] == "sent by ticketdesk itself"

    async def test_bounce(self, mailbox: Mailbox, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        await mailbox.deliver(
            mail("bounce.eml", **reply_values(mailbox.settings, ticket, accounts.alice))
        )

        assert await conversation(accounts.agent, ticket) == []
        assert len(await inbound(accounts, "ignored")) == 1

    async def test_each_sign_of_a_machine(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        values = reply_values(mailbox.settings, ticket, accounts.alice)
        signs = [
            ("Precedence", "bulk"),
            ("Precedence", "junk"),
            ("Precedence", "list"),
            ("X-Autoreply", "yes"),
            ("Auto-Submitted", "auto-generated"),
        ]
        for number, (header, value) in enumerate(signs):
            raw = mail("gmail-reply.eml", **values).replace(
                b"Message-ID: <CAK7x", f"{header}: {value}\r\nMessage-ID: <{number}CAK7x".encode()
            )
            await mailbox.deliver(raw)
        # The MTA's Return-Path: empty for a bounce.
        bounce = mail("gmail-reply.eml", **values).replace(
            f"Return-Path: <{values['sender']}>".encode(), b"Return-Path: <>"
        )
        await mailbox.deliver(bounce.replace(b"Message-ID: <CAK7x", b"Message-ID: <bounceCAK7x"))

        assert await conversation(accounts.agent, ticket) == []
        assert len(await inbound(accounts, "ignored")) == len(signs) + 1

    async def test_auto_submitted_no_is_a_person(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        raw = mail("gmail-reply.eml", **reply_values(mailbox.settings, ticket, accounts.alice))

        await mailbox.deliver(raw.replace(b"MIME-Version:", b"Auto-Submitted: no\r\nMIME-Version:"))

        assert len(await conversation(accounts.agent, ticket)) == 1


def _with_files(text: str, files: list[tuple[str, str, bytes]], **headers: str) -> bytes:
    message = EmailMessage()
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    for filename, media_type, content in files:
        maintype, subtype = media_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


class TestAttachments:
    async def test_become_ticket_attachments(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        values = reply_values(mailbox.settings, ticket, accounts.alice)
        raw = _with_files(
            "Here is a screenshot of the error.",
            [("screenshot.png", "image/png", PNG)],
            From=values["sender"],
            To=values["reply_to"],
            Subject="Re: export",
            Message_ID="<files-1@example.com>",
        )

        await mailbox.deliver(raw)

        response = await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}/attachments")
        [attachment] = response.json()
        assert attachment["filename"] == "screenshot.png"
        assert attachment["media_type"] == "image/png"
        download = await accounts.alice.client.get(
            f"/api/v1/tickets/{ticket.id}/attachments/{attachment['id']}/download"
        )
        assert download.content == PNG
        [comment] = await conversation(accounts.alice, ticket)
        assert comment["body"] == "Here is a screenshot of the error."

    async def test_refused_files_are_noted(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        values = reply_values(mailbox.settings, ticket, accounts.alice)
        too_big = PNG + bytes(mailbox.settings.max_attachment_bytes)
        raw = _with_files(
            "The logs and the installer.",
            [
                ("huge.png", "image/png", too_big),
                ("**setup**.exe", "application/octet-stream", EXECUTABLE),
                ("ok.png", "image/png", PNG),
            ],
            From=values["sender"],
            To=values["reply_to"],
            Subject="Re: export",
            Message_ID="<files-2@example.com>",
        )

        await mailbox.deliver(raw)

        response = await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}/attachments")
        assert [a["filename"] for a in response.json()] == ["ok.png"]
        [comment] = await conversation(accounts.alice, ticket)
        body = comment["body"]
        assert body.startswith("The logs and the installer.\n\n_Files of this mail that were not")
        assert "- huge.png: huge.png is over the limit of" in body
        # Shown as named, not as emphasis.
        assert "- \\*\\*setup\\*\\*.exe: " in body

    async def test_files_past_the_senders_quota_are_noted(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        mailbox.settings = mailbox.settings.model_copy(
            update={
                "tickets": mailbox.settings.tickets.model_copy(update={"attachment_quota_mb": 1})
            }
        )
        ticket = await create_ticket(conn, accounts.alice)
        values = reply_values(mailbox.settings, ticket, accounts.alice)
        half = PNG + bytes(600 * 1024)
        raw = _with_files(
            "Two screenshots.",
            [("first.png", "image/png", half), ("second.png", "image/png", half)],
            From=values["sender"],
            To=values["reply_to"],
            Subject="Re: export",
            Message_ID="<files-quota@example.com>",
        )

        await mailbox.deliver(raw)

        response = await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}/attachments")
        assert [a["filename"] for a in response.json()] == ["first.png"]
        [comment] = await conversation(accounts.alice, ticket)
        assert (
            "- second.png: Your files would take up more than your storage quota of 1 MB"
            in (comment["body"])
        )

    async def test_attachments_switched_off(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        mailbox.settings = mailbox.settings.model_copy(
            update={
                "tickets": mailbox.settings.tickets.model_copy(update={"allow_attachments": False})
            }
        )
        ticket = await create_ticket(conn, accounts.alice)
        values = reply_values(mailbox.settings, ticket, accounts.alice)
        raw = _with_files(
            "See attached.",
            [("ok.png", "image/png", PNG)],
            From=values["sender"],
            To=values["reply_to"],
            Subject="Re: export",
            Message_ID="<files-3@example.com>",
        )

        await mailbox.deliver(raw)

        response = await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}/attachments")
        assert response.json() == []
        [comment] = await conversation(accounts.alice, ticket)
        assert "- ok.png: Attachments are switched off on this server." in comment["body"]
