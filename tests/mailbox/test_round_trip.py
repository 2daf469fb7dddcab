"""A notification answered from a mail client comes back to its ticket.

The whole loop with real servers: a staff reply is mailed by the worker through the SMTP
server; the submitter's client answers that very mail (its ``Reply-To``, its thread, the
reply quoted below); the answer is delivered into Dovecot and taken in by the poller.
"""

from collections.abc import AsyncIterator
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi import FastAPI

from tests.factories import Accounts
from tests.mailbox.mailroom import SUPPORT, Mailbox
from tests.mailservers import ImapServer, SmtpServer
from tests.notifications.conftest import mail_settings
from tests.notifications.support import comment, mail_to, open_ticket, plain, settled
from tests.workers import running_worker
from ticketdesk.config import Settings
from ticketdesk.db import Connection


@pytest.fixture
def settings_overrides(imap_server: ImapServer, smtp_server: SmtpServer) -> dict[str, Any]:
    """Mail out to the SMTP server, replies in from Dovecot, one support address."""
    return {
        **mail_settings(smtp_server),
        "imap_url": imap_server.url,
        "mail_from": f"Help Desk <{SUPPORT}>",
    }


@pytest.fixture
async def worker(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """The job worker that sends the notifications."""
    async with running_worker(app, settings):
        yield


def answer(notification: EmailMessage, sender: str, text: str) -> bytes:
    """What a mail client sends when its user answers ``notification``: the new text on
    top, the notification quoted below, the thread headers set."""
    quoted = "\n".join(f"> {line}" for line in plain(notification).splitlines())
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = notification["Reply-To"]
    reply["Subject"] = f"Re: {notification['Subject']}"
    reply["Message-ID"] = "<answer-1@mail.example.org>"
    reply["In-Reply-To"] = notification["Message-ID"]
    reply["References"] = f"{notification['References']} {notification['Message-ID']}"
    reply.set_content(f"{text}\n\nOn Tue, 1 Dec 2026 at 10:00, Help Desk wrote:\n{quoted}\n")
    return bytes(reply)


@pytest.mark.usefixtures("worker")
async def test_an_answer_to_a_notification_lands_on_its_ticket(
    accounts: Accounts, conn: Connection, smtp_server: SmtpServer, mailbox: Mailbox
) -> None:
    ticket = await open_ticket(accounts.alice)
    await comment(accounts.agent, ticket, "Restart the spooler, then print again.")
    await comment(accounts.agent, ticket, "Spooler logs point at the driver.", internal=True)
    await settled(conn)
    notification = next(
        m for m in mail_to(smtp_server, accounts.alice) if "Restart the spooler" in plain(m)
    )
    assert "Spooler logs" not in plain(notification)

    await mailbox.deliver(answer(notification, accounts.alice.user.email, "That fixed it!"))

    response = await accounts.agent.client.get(f"/api/v1/tickets/{ticket['id']}/comments")
    assert response.status_code == 200, response.text
    last = response.json()[-1]
    assert last["author"]["id"] == str(accounts.alice.user.id)
    assert last["is_internal"] is False
    assert last["body"].strip() == "That fixed it!"
