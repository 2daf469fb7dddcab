"""With ``mail.open_tickets_by_mail`` a new mail to the support address opens a ticket."""

from typing import Any

import pytest

from tests.factories import Accounts
from tests.mailbox.mailroom import Mailbox, inbound, mail
from tests.mailservers import ImapServer


def _new_request(sender: str, subject: str = "Invoices page is empty since this morning") -> bytes:
    return mail("new-request.eml", sender=sender, sender_name="Alice", subject=subject)


async def _tickets(accounts: Accounts) -> list[dict[str, Any]]:
    response = await accounts.agent.client.get("/api/v1/tickets")
    items: list[dict[str, Any]] = response.json()["items"]
    return items


class TestSwitchedOn:
    @pytest.fixture
    def settings_overrides(self, imap_server: ImapServer) -> dict[str, Any]:
        return {
            "imap_url": imap_server.url,
            "mail_from": "Ticketdesk <support@example.com>",
            "mail": {"open_tickets_by_mail": True},
        }

    async def test_known_user_opens_a_ticket(self, mailbox: Mailbox, accounts: Accounts) -> None:
        await mailbox.deliver(_new_request(accounts.alice.user.email))

        [ticket] = await _tickets(accounts)
        assert ticket["title"] == "Invoices page is empty since this morning"
        assert ticket["type"] == "support"
        assert ticket["submitter"]["id"] == str(accounts.alice.user.id)
        response = await accounts.alice.client.get(f"/api/v1/tickets/{ticket['id']}")
        assert response.json()["description"] == (
            "Hello,\n\nsince this morning the invoices page stays empty for our whole team. "
            "We use\nFirefox 133 on Windows 11."
        )

    async def test_short_subject(self, mailbox: Mailbox, accounts: Accounts) -> None:
        await mailbox.deliver(_new_request(accounts.alice.user.email, subject="Help"))

        [ticket] = await _tickets(accounts)
        assert ticket["title"] == "Help (by e-mail)"

    async def test_stranger_opens_nothing(self, mailbox: Mailbox, accounts: Accounts) -> None:
        await mailbox.deliver(_new_request("mallory@example.org"))

        assert await _tickets(accounts) == []
        [refused] = await inbound(accounts, "refused")
        assert refused["reason"] == "mallory@example.org has no account here"


class TestSwitchedOff:
    async def test_refused(self, mailbox: Mailbox, accounts: Accounts) -> None:
        await mailbox.deliver(_new_request(accounts.alice.user.email))

        assert await _tickets(accounts) == []
        [refused] = await inbound(accounts, "refused")
        assert refused["reason"] == "it replies to no ticket, and opening tickets by mail is off"
