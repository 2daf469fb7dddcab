"""SMTP, GitHub and a webhook receiver down for a while, then back: everything queued
meanwhile is delivered once, and in order per ticket.

The three are real servers on 127.0.0.1 (aiosmtpd, the fake GitHub, an HTTP receiver)
that stop listening, so every attempt meets a refused connection, and start again on
the same port. A ticket is opened and answered three times while they are down; the
worker keeps retrying. Once they are back: one issue with the three replies in order,
the submitter's mail carrying the receipt and the three replies in order, and the
receiver's ``ticket.created`` then the three ``ticket.commented`` in order, each once.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from tests.factories import Accounts, ticket_body
from tests.fakes.github import FakeGitHub
from tests.faults.processes import FAST_JOBS
from tests.github.support import PAYLOAD_REPO, github_settings
from tests.jobs.waiting import eventually
from tests.mailservers import SmtpServer
from tests.notifications.support import plain
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import create_webhook, deliveries
from tests.workers import running_worker
from ticketdesk.config import Settings

pytestmark = pytest.mark.xdist_group("faults")

REPLIES = ["First answer", "Second answer", "Third answer"]
DOWN_SECONDS = 1.5


@pytest.fixture
def settings_overrides(gh: FakeGitHub, smtp_server: SmtpServer) -> dict[str, Any]:
    return {
        **github_settings(gh),
        "smtp_url": smtp_server.url,
        # Every change is a mail of its own at once; the submitter's are the only ones.
        "notifications": {"new_tickets": "none", "burst_seconds": 0},
        "webhooks": {
            "allow_private_targets": True,
            "retry_base_seconds": 0.1,
            "retry_cap_seconds": 0.5,
            "max_attempts": 50,
        },
        "jobs": FAST_JOBS,
    }


@pytest.fixture
async def worker(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    async with running_worker(app, settings):
        yield


async def test_what_was_queued_meanwhile_arrives_once_in_order(
    accounts: Accounts,
    gh: FakeGitHub,
    smtp_server: SmtpServer,
    receiver: Receiver,
    worker: None,
) -> None:
    webhook = await create_webhook(
        accounts.admin, receiver.url, events=["ticket.created", "ticket.commented"]
    )
    gh.down()
    smtp_server.stop()
    receiver.stop()

    created = await accounts.alice.client.post("/api/v1/tickets", json=ticket_body())
    assert created.status_code == 201, created.text
    ticket = created.json()
    for reply in REPLIES:
        answered = await accounts.agent.client.post(
            f"/api/v1/tickets/{ticket['id']}/comments", json={"comment": reply}
        )
        assert answered.status_code == 201, answered.text
    await asyncio.sleep(DOWN_SECONDS)  # the worker tries, and fails, meanwhile

    async def tried() -> bool:  # however slow the machine, the receiver was found down
        return any(d["attempts"] >= 1 for d in await deliveries(accounts.admin, webhook))

    await eventually(tried, what="a delivery attempted while the receiver is down")
    gh.up()
    smtp_server.start()
    receiver.start()

    async def all_delivered() -> list[dict[str, Any]] | None:
        log = await deliveries(accounts.admin, webhook)
        done = len(log) == 1 + len(REPLIES) and all(d["status"] == "succeeded" for d in log)
        return log if done else None

    log = await eventually(all_delivered, what="every delivery")
    assert max(d["attempts"] for d in log) > 1, "the receiver was never found down"
    events = [(r.headers["webhook-id"], r.body) for r in receiver.received]
    assert len(events) == len({webhook_id for webhook_id, _ in events})
    bodies = [body.decode() for _, body in events]
    assert '"ticket.created"' in bodies[0]
    assert [next(t for t in REPLIES if t in b) for b in bodies[1:]] == REPLIES

    async def issue_comments() -> list[str] | None:
        response = await accounts.agent.client.get(f"/api/v1/tickets/{ticket['id']}")
        number = response.json()["github_issue_number"]
        if number is None:
            return None
        owner, name = PAYLOAD_REPO.split("/")
        posted = [c["body"] for c in gh.comments(owner, name, number)]
        return posted if len(posted) >= len(REPLIES) else None

    posted = await eventually(issue_comments, what="the replies on GitHub")
    owner, name = PAYLOAD_REPO.split("/")
    assert len(gh.issues(owner, name)) == 1
    assert [next(t for t in REPLIES if t in body) for body in posted] == REPLIES

    async def mailed() -> str | None:
        text = "\n".join(plain(m) for m in smtp_server.messages)
        return text if all(reply in text for reply in REPLIES) else None

    text = await eventually(mailed, what="the replies by mail")
    positions = [text.index(reply) for reply in REPLIES]
    assert positions == sorted(positions)
    assert all(text.count(reply) == 1 for reply in REPLIES)
    assert len({m["Message-ID"] for m in smtp_server.messages}) == len(smtp_server.messages)
    assert f"[#{ticket['number']}]" in smtp_server.messages[0]["Subject"]
    assert all(accounts.alice.user.email in m["To"] for m in smtp_server.messages)
