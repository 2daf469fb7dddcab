"""The support mailbox as tests use it: mails from ``mails/``, delivered and read."""

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from tests.factories import Accounts, Person
from tests.mailservers import ImapServer
from ticketdesk.attachments.storage import AttachmentStorage, open_storage
from ticketdesk.config import Settings
from ticketdesk.mail.addresses import reply_address, thread_id
from ticketdesk.mailbox.poller import poll_once
from ticketdesk.ticket_detail import TicketDetail

MAILS = Path(__file__).parent / "mails"
SUPPORT = "support@example.com"


def mail(name: str, **values: str) -> bytes:
    """A mail from ``mails/``, its ``{placeholders}`` filled in, with CRLF line ends."""
    text = (MAILS / name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def poisoned(raw: bytes) -> bytes:
    """``raw`` with a Message-ID far beyond what an index takes, in UTF-8, and a Subject
    that encodes a NUL, which text in the database cannot hold."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = [
        b"Message-ID: <" + "ü".encode() * 3000 + b"@example.org>"
        if line.lower().startswith(b"message-id:")
        else line.replace(b"Subject: ", b"Subject: =?utf-8?b?AA==?= ")
        for line in head.split(b"\r\n")
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def padded(raw: bytes, size: int) -> bytes:
    """``raw`` with its text made ``size`` bytes longer."""
    head, _, body = raw.partition(b"\r\n\r\n")
    line = b"x" * 76 + b"\r\n"
    return head + b"\r\n\r\n" + line * (size // len(line) + 1) + body


def reply_values(settings: Settings, ticket: TicketDetail, sender: Person) -> dict[str, str]:
    """What a reply to a notification about ``ticket`` from ``sender`` says in its headers."""
    return {
        "sender": sender.user.email,
        "reply_to": reply_address(settings.mail_from, settings.secret(), ticket.number),
        "to": SUPPORT,
        "thread": thread_id(ticket.id, "example.com"),
        "ticket_id": str(ticket.id),
        "number": str(ticket.number),
    }


class Mailbox:
    """The support mailbox: mail goes in through Dovecot, ticketdesk takes it in."""

    def __init__(self, server: ImapServer, app: FastAPI, settings: Settings) -> None:
        self.server = server
        self.app = app
        self.settings = settings

    @property
    def storage(self) -> AttachmentStorage:
        """Where the files of mails are stored."""
        return open_storage(self.settings)

    async def poll(self) -> int:
        """One round of the worker's poller; how many messages were new."""
        assert self.settings.imap is not None
        return await poll_once(self.settings.imap, self.app.state.pool, self.storage, self.settings)

    async def deliver(self, raw: bytes) -> int:
        """Deliver ``raw`` and let ticketdesk take it in."""
        self.server.deliver(raw)
        return await self.poll()


async def conversation(person: Person, ticket: TicketDetail) -> list[dict[str, Any]]:
    """A ticket's comments as ``person`` reads them."""
    response = await person.client.get(f"/api/v1/tickets/{ticket.id}/comments")
    assert response.status_code == 200, response.text
    comments: list[dict[str, Any]] = response.json()
    return comments


async def inbound(accounts: Accounts, status: str) -> list[dict[str, Any]]:
    """The admin list of inbound mail in one status."""
    response = await accounts.admin.client.get(
        "/api/v1/admin/inbound-mail", params={"status": status}
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items
