"""Replies by mail, tested against a real Dovecot and the real database.

Mails are delivered into Dovecot's mailbox as an MTA would, and read back by the
poller ticketdesk runs in its worker; what a reply became is checked through the API,
as the submitter and the agents see it. Without Dovecot they fail, saying so
(``scripts/test`` installs it when it can, and stops when it cannot).
"""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from tests.mailbox.mailroom import SUPPORT, Mailbox
from tests.mailservers import DovecotMissing, ImapServer
from ticketdesk.config import Settings


@pytest.fixture
def imap_server() -> Iterator[ImapServer]:
    """Dovecot with one mailbox, on a free port, with a config of its own."""
    try:
        server = ImapServer(user=SUPPORT)
    except DovecotMissing as exc:
        pytest.fail(f"the inbound-mail tests need Dovecot: {exc}")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings_overrides(imap_server: ImapServer) -> dict[str, Any]:
    """ticketdesk reading Dovecot's mailbox, sending as the support address."""
    return {"imap_url": imap_server.url, "mail_from": f"Ticketdesk <{SUPPORT}>"}


@pytest.fixture
def mailbox(imap_server: ImapServer, app: FastAPI, settings: Settings) -> Mailbox:
    """The support mailbox, read by ticketdesk."""
    return Mailbox(imap_server, app, settings)
