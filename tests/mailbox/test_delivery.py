"""Each message is taken in once, however often it arrives or however many workers read
the mailbox; one that fails is kept for admins to retry or dismiss, never dropped."""

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from tests.factories import Accounts, create_ticket
from tests.mailbox.mailroom import (
    Mailbox,
    conversation,
    inbound,
    mail,
    padded,
    poisoned,
    reply_values,
)
from tests.mailservers import ImapServer
from tests.workers import running_worker
from ticketdesk.config import ImapTarget, Settings
from ticketdesk.db import Connection
from ticketdesk.mailbox.poller import poll_once, run_poller
from ticketdesk.mailbox.service import max_mail_bytes


class TestOnce:
    async def test_same_message_delivered_twice(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        raw = mail("gmail-reply.eml", **reply_values(mailbox.settings, ticket, accounts.alice))

        assert await mailbox.deliver(raw) == 1
        assert await mailbox.deliver(raw) == 0

        assert len(await conversation(accounts.agent, ticket)) == 1
        assert len(await inbound(accounts, "posted")) == 1
        assert mailbox.server.unseen() == 0

    async def test_two_pollers_at_once(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        values = reply_values(mailbox.settings, ticket, accounts.alice)
        for number in range(3):
            mailbox.server.deliver(
                mail("gmail-reply.eml", **values).replace(
                    b"Message-ID: <CAK7x", f"Message-ID: <{number}CAK7x".encode()
                )
            )

        new = await asyncio.gather(mailbox.poll(), mailbox.poll())

        assert sum(new) == 3
        assert len(await conversation(accounts.agent, ticket)) == 3
        assert mailbox.server.unseen() == 0

    async def test_message_without_message_id(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        raw = mail("gmail-reply.eml", **reply_values(mailbox.settings, ticket, accounts.alice))
        raw = raw.replace(b"Message-ID: <CAK7x", b"X-Was-Message-ID: <CAK7x")

        assert await mailbox.deliver(raw) == 1
        assert await mailbox.deliver(raw) == 0

        assert len(await conversation(accounts.agent, ticket)) == 1

    async def test_poisoned_headers_then_a_good_mail(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        good = mail("gmail-reply.eml", **reply_values(mailbox.settings, ticket, accounts.alice))
        mailbox.server.deliver(poisoned(good))
        mailbox.server.deliver(good)

        assert await mailbox.poll() == 2

        assert len(await conversation(accounts.agent, ticket)) == 2
        poison, fine = sorted(await inbound(accounts, "posted"), key=lambda row: row["id"])
        assert poison["subject"] == fine["subject"]
        assert poison["message_id"].startswith("<üüü")
        assert mailbox.server.unseen() == 0

    async def test_too_large_refused_unread(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        settings = mailbox.settings
        small = settings.model_copy(
            update={"tickets": settings.tickets.model_copy(update={"max_attachment_size_mb": 1})}
        )
        good = mail("gmail-reply.eml", **reply_values(settings, ticket, accounts.alice))
        large = padded(good, max_mail_bytes(small)).replace(b"Message-ID: <", b"Message-ID: <L")
        mailbox.server.deliver(large)
        mailbox.server.deliver(good)

        assert small.imap is not None
        assert await poll_once(small.imap, mailbox.app.state.pool, mailbox.storage, small) == 2

        assert len(await conversation(accounts.agent, ticket)) == 1
        [refused] = await inbound(accounts, "refused")
        assert refused["reason"].startswith(f"too large: {len(large)} bytes, at most ")
        assert refused["sender"] == accounts.alice.user.email
        assert mailbox.server.unseen() == 0


def _break_storage(settings: Settings, ticket_id: object) -> Path:
    """Make the ticket's folder in attachment storage a file, so storing there fails."""
    blocker = settings.data_dir / "attachments" / "tickets" / str(ticket_id)
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a folder")
    return blocker


class TestFailed:
    async def _failing(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> tuple[Any, Path, dict[str, Any]]:
        ticket = await create_ticket(conn, accounts.alice)
        blocker = _break_storage(mailbox.settings, ticket.id)
        raw = mail("with-attachment.eml", **reply_values(mailbox.settings, ticket, accounts.alice))
        await mailbox.deliver(raw)
        [failed] = await inbound(accounts, "failed")
        return ticket, blocker, failed

    async def test_kept_and_listed_for_admins(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket, _, failed = await self._failing(mailbox, accounts, conn)

        assert failed["sender"] == accounts.alice.user.email
        assert failed["subject"] == f"Re: [#{ticket.number}] The export button does nothing"
        assert failed["reason"]
        assert await conversation(accounts.agent, ticket) == []
        # Kept by ticketdesk: the mailbox need not offer it again.
        assert mailbox.server.unseen() == 0

    async def test_retried_once_fixed(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket, blocker, failed = await self._failing(mailbox, accounts, conn)
        blocker.unlink()

        response = await accounts.admin.client.post(
            f"/api/v1/admin/inbound-mail/{failed['id']}/retry"
        )

        assert response.status_code == 200, response.text
        assert response.json()["status"] == "posted"
        assert response.json()["attempts"] == 2
        [comment] = await conversation(accounts.alice, ticket)
        assert comment["body"] == "The log of the failed export is attached."
        assert await inbound(accounts, "failed") == []

    async def test_retry_failing_again(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        _, _, failed = await self._failing(mailbox, accounts, conn)

        response = await accounts.admin.client.post(
            f"/api/v1/admin/inbound-mail/{failed['id']}/retry"
        )

        assert response.json()["status"] == "failed"
        [still] = await inbound(accounts, "failed")
        assert still["attempts"] == 2

    async def test_dismissed(self, mailbox: Mailbox, accounts: Accounts, conn: Connection) -> None:
        _, _, failed = await self._failing(mailbox, accounts, conn)
        url = f"/api/v1/admin/inbound-mail/{failed['id']}"

        response = await accounts.admin.client.post(f"{url}/dismiss")

        assert response.json()["status"] == "dismissed"
        assert await inbound(accounts, "failed") == []
        again = await accounts.admin.client.post(f"{url}/retry")
        assert again.status_code == 409
        assert again.json()["code"] == "inbound_mail_not_failed"

    async def test_admins_only(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        _, _, failed = await self._failing(mailbox, accounts, conn)

        listed = await accounts.agent.client.get("/api/v1/admin/inbound-mail")
        retried = await accounts.alice.client.post(
            f"/api/v1/admin/inbound-mail/{failed['id']}/retry"
        )

        assert listed.status_code == 403
        assert retried.status_code == 403

    async def test_unknown_message(self, accounts: Accounts, mailbox: Mailbox) -> None:
        response = await accounts.admin.client.post("/api/v1/admin/inbound-mail/999/retry")

        assert response.status_code == 404
        assert response.json()["code"] == "inbound_mail_not_found"


class TestWorker:
    async def test_reads_the_mailbox_as_mail_arrives(
        self, mailbox: Mailbox, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        async with running_worker(mailbox.app, mailbox.settings):
            await asyncio.sleep(1)  # the poller is connected and waiting in IDLE
            mailbox.server.deliver(
                mail("gmail-reply.eml", **reply_values(mailbox.settings, ticket, accounts.alice))
            )
            for _ in range(100):
                if await conversation(accounts.agent, ticket):
                    break
                await asyncio.sleep(0.1)

        assert len(await conversation(accounts.agent, ticket)) == 1

    async def test_wrong_password_is_logged_without_it(
        self,
        imap_server: ImapServer,
        mailbox: Mailbox,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        wrong = ImapTarget(
            host="127.0.0.1",
            port=imap_server.port,
            username=imap_server.user,
            password="not-the-password-8231",
            use_tls=False,
            folder="INBOX",
        )
        caplog.set_level(logging.DEBUG)
        poller = asyncio.create_task(
            run_poller(
                wrong,
                mailbox.app.state.pool,
                mailbox.storage,
                mailbox.settings,
                reconnect_seconds=0.2,
            )
        )
        for _ in range(100):
            if len([r for r in caplog.records if r.levelno == logging.ERROR]) >= 2:
                break
            await asyncio.sleep(0.1)
        poller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await poller

        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert errors[0].startswith(f"IMAP mailbox {wrong.where} refused the login: ")
        # Each attempt waits twice as long as the one before (Dovecot itself slows down
        # repeated failed logins, so two are all a test waits for).
        assert [line.rsplit(" in ", 1)[1] for line in errors[:2]] == ["0.2 s", "0.4 s"]
        assert "not-the-password-8231" not in caplog.text
        assert "not-the-password-8231" not in repr(wrong)
