"""Addresses a submitter copies on their mail follow the ticket, over the real inbound path:
the mail goes into Dovecot, the poller takes it in, and the public replies that follow
reach the copied addresses through the SMTP server."""

from collections.abc import AsyncIterator
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi import FastAPI

from tests.factories import Accounts
from tests.mailbox.mailroom import SUPPORT, Mailbox
from tests.mailservers import ImapServer, SmtpServer
from tests.notifications.conftest import mail_settings
from tests.notifications.support import comment, open_ticket, plain, settled
from tests.workers import running_worker
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.mail.addresses import reply_address, thread_id


@pytest.fixture
def settings_overrides(imap_server: ImapServer, smtp_server: SmtpServer) -> dict[str, Any]:
    """Mail out to the SMTP server, mail in from Dovecot, one support address."""
    return {
        **mail_settings(smtp_server),
        "imap_url": imap_server.url,
        "mail_from": f"Help Desk <{SUPPORT}>",
    }


@pytest.fixture
async def worker(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """The job worker that sends the mail."""
    async with running_worker(app, settings):
        yield


def _mail(sender: str, to: str, cc: str, ticket: dict[str, Any], text: str | EmailMessage) -> bytes:
    if isinstance(text, EmailMessage):
        message = text
    else:
        message = EmailMessage()
        message.set_content(text)
    message["From"] = sender
    message["To"] = to
    message["Cc"] = cc
    message["Subject"] = f"Re: [#{ticket['number']}] {ticket['title']}"
    message["Message-ID"] = f"<copied-{ticket['number']}-{len(cc)}@mail.example.org>"
    message["In-Reply-To"] = thread_id(ticket["id"], "example.com")
    return bytes(message)


@pytest.mark.usefixtures("worker")
async def test_copied_addresses_follow_and_hear_public_replies(
    accounts: Accounts,
    conn: Connection,
    smtp_server: SmtpServer,
    mailbox: Mailbox,
    settings: Settings,
) -> None:
    ticket = await open_ticket(accounts.alice)
    to = reply_address(settings.mail_from, settings.secret(), ticket["number"])
    cc = f"Carol <Carol@Partner.example>, {accounts.bob.user.email}, {SUPPORT}"

    await mailbox.deliver(
        _mail(accounts.alice.user.email, to, cc, ticket, "Copying Carol and Bob.")
    )
    detail = (await accounts.agent.client.get(f"/api/v1/tickets/{ticket['id']}")).json()
    await comment(accounts.agent, ticket, "Thanks, the fix is on its way.")
    await comment(accounts.agent, ticket, "Internal: ask finance about the credit.", internal=True)
    await settled(conn)
    await _address_mail_sent(conn)

    followers = {(f["email"] or f["user"]["email"], f["via"]) for f in detail["followers"]}
    assert followers == {("carol@partner.example", "cc"), (accounts.bob.user.email, "cc")}
    to_carol = [m for m in smtp_server.messages if m["To"] == "carol@partner.example"]
    to_bob = [m for m in smtp_server.messages if accounts.bob.user.email in m["To"]]
    assert ["Thanks, the fix is on its way." in plain(m) for m in to_carol] == [True]
    assert any("Thanks, the fix is on its way." in plain(m) for m in to_bob)
    for message in to_carol + to_bob:
        assert "finance" not in plain(message)


@pytest.mark.usefixtures("worker")
async def test_copies_on_someone_elses_mail_follow_nothing(
    accounts: Accounts, mailbox: Mailbox, settings: Settings
) -> None:
    ticket = await open_ticket(accounts.alice)
    to = reply_address(settings.mail_from, settings.secret(), ticket["number"])

    # An agent's answer by mail copies someone: that does not make them a follower.
    await mailbox.deliver(
        _mail(accounts.agent.user.email, to, "dave@partner.example", ticket, "On it.")
    )
    detail = (await accounts.agent.client.get(f"/api/v1/tickets/{ticket['id']}")).json()

    assert detail["comments"][-1]["body"].strip() == "On it."
    assert detail["followers"] == []


@pytest.mark.usefixtures("worker")
async def test_a_reply_to_a_merged_duplicate_lands_on_the_main_ticket_for_its_followers(
    accounts: Accounts, mailbox: Mailbox, settings: Settings
) -> None:
    main = await open_ticket(accounts.alice)
    duplicate = await open_ticket(accounts.bob)
    merged = await accounts.agent.client.post(
        f"/api/v1/tickets/{duplicate['id']}/merge", json={"into": str(main["number"])}
    )
    assert merged.status_code == 201, merged.text
    to = reply_address(settings.mail_from, settings.secret(), duplicate["number"])

    reply = EmailMessage()
    reply.set_content("Still broken.")
    reply.add_attachment(b"1. export\n", maintype="text", subtype="plain", filename="steps.txt")
    await mailbox.deliver(
        _mail(accounts.bob.user.email, to, "erin@partner.example", duplicate, reply)
    )
    unfollowed = await accounts.bob.client.delete(f"/api/v1/tickets/{main['id']}/follow")
    await mailbox.deliver(_mail(accounts.bob.user.email, to, "", duplicate, "Hello again?"))
    main_now = (await accounts.agent.client.get(f"/api/v1/tickets/{main['id']}")).json()
    dup_now = (await accounts.agent.client.get(f"/api/v1/tickets/{duplicate['id']}")).json()

    bodies = [c["body"].strip() for c in main_now["comments"] + dup_now["comments"]]
    [reply_on_main] = [c["body"] for c in main_now["comments"] if "Still broken." in c["body"]]
    # A follower adds no files to a ticket that is not theirs, by mail as through the API.
    assert "steps.txt: only the ticket's submitter and staff attach files" in reply_on_main
    assert main_now["attachments"] == dup_now["attachments"] == []
    # Bob copied Erin on a reply to a ticket that is not his: she follows nothing (and
    # Bob, who followed it by the merge, stopped).
    assert unfollowed.status_code == 200
    assert main_now["followers"] == []
    # Once he stopped following the main ticket, his mail reaches neither ticket.
    assert "Hello again?" not in bodies


async def _address_mail_sent(conn: Connection) -> None:
    from tests.jobs.waiting import eventually

    async def done() -> bool:
        cur = await conn.execute(
            "select count(*) as n from procrastinate_jobs"
            " where task_name = 'notifications.mail_address_follower'"
            " and status in ('todo', 'doing')"
        )
        row = await cur.fetchone()
        assert row is not None
        return bool(row["n"] == 0)

    await eventually(done, what="the mail to copied addresses")
