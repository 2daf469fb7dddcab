"""A worker killed with SIGKILL in the middle of its jobs: another takes them up, and
each effect happens once.

A real ``ticketdesk worker`` process runs the jobs a new ticket queues: creating its
GitHub issue (the fake GitHub), mailing its submitter (aiosmtpd) and delivering
``ticket.created`` to a webhook endpoint (a real HTTP receiver). Each of the three is
held at its most awkward moment, once the other side has the request but before the
worker has heard back: GitHub has created the issue, the SMTP server has the whole
message, the receiver has the delivery. Then the worker is killed (SIGKILL: no clean-up,
no last heartbeat), and a second worker takes the jobs up once the first one's heartbeat
is stale.

What is guaranteed, and asserted:

- GitHub: exactly one issue. Before each create the link records that a request may have
  reached GitHub; the next attempt looks for the issue (by the hidden block naming the
  ticket) before it creates one, and finds it.
- Mail: the same message, with the same ``Message-ID``, may be handed over twice: the
  server took it, the worker died before hearing so. SMTP gives no way to ask a server
  what it already took. Mail clients show a ``Message-ID`` once; no second, different
  mail is ever sent.
- Webhooks: likewise at least once, with one ``webhook-id`` (Standard Webhooks' message
  id), which a receiver uses to drop the repeat; the endpoint's delivery log shows one
  delivery, succeeded.
"""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import Accounts, ticket_body
from tests.fakes.github import FakeGitHub
from tests.faults.processes import FAST_JOBS, Worker, write_config
from tests.github.support import PAYLOAD_REPO, github_settings
from tests.jobs.waiting import eventually
from tests.mailservers import SmtpServer
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import create_webhook, deliveries
from ticketdesk.config import Settings

pytestmark = pytest.mark.xdist_group("faults")

# How long each other side holds the worker's request: far longer than the test needs
# to kill the worker.
HOLD_SECONDS = 8.0


@pytest.fixture
def settings_overrides(gh: FakeGitHub, smtp_server: SmtpServer) -> dict[str, Any]:
    github = github_settings(gh, timeout_seconds=HOLD_SECONDS + 5)
    return {
        **github,
        "smtp_url": smtp_server.url,
        # The submitter's receipt is the one mail.
        "notifications": {"new_tickets": "none", "burst_seconds": 0},
        "webhooks": {
            "allow_private_targets": True,
            "retry_base_seconds": 0.1,
            "retry_cap_seconds": 0.5,
            "timeout_seconds": HOLD_SECONDS + 2,
        },
        "jobs": FAST_JOBS,
    }


@pytest.fixture
def start_worker(
    settings: Settings, settings_overrides: dict[str, Any], tmp_path: Path
) -> Iterator[Callable[[], Worker]]:
    """Start ``ticketdesk worker`` processes on the test's database; all stopped after."""
    assert settings.database_url is not None
    config = write_config(
        tmp_path / "worker.yaml", settings.database_url, settings.data_dir, settings_overrides
    )
    started: list[Worker] = []

    def start() -> Worker:
        started.append(Worker(config, tmp_path / "worker.log"))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()


async def _until(condition: Callable[[], bool], what: str) -> None:
    async def holds() -> bool:
        return condition()

    await eventually(holds, what=what)


async def test_each_effect_happens_once_after_the_worker_dies_mid_job(
    accounts: Accounts,
    gh: FakeGitHub,
    smtp_server: SmtpServer,
    receiver: Receiver,
    start_worker: Callable[[], Worker],
) -> None:
    webhook = await create_webhook(accounts.admin, receiver.url, events=["ticket.created"])
    gh.delay(HOLD_SECONDS)  # GitHub creates the issue, then holds its answer
    smtp_server.hold()
    receiver.plan.append((200, HOLD_SECONDS))
    first = start_worker()

    created = await accounts.alice.client.post("/api/v1/tickets", json=ticket_body())
    assert created.status_code == 201, created.text
    ticket = created.json()
    await _until(lambda: any(r.method == "POST" for r in gh.requests), "the issue to be created")
    await _until(lambda: smtp_server.held == 1, "the mail to reach the server")
    await _until(lambda: len(receiver.received) == 1, "the delivery to reach the receiver")
    first.kill()
    gh.delay(0)
    smtp_server.release()
    start_worker()

    async def linked() -> int | None:
        response = await accounts.agent.client.get(f"/api/v1/tickets/{ticket['id']}")
        number: int | None = response.json()["github_issue_number"]
        return number

    number = await eventually(linked, what="the ticket to be linked to its issue")
    owner, name = PAYLOAD_REPO.split("/")
    assert [issue["number"] for issue in gh.issues(owner, name)] == [number]
    assert [r.method for r in gh.requests if r.path.endswith("/issues")] == ["POST"]

    async def delivered() -> list[dict[str, Any]] | None:
        log = await deliveries(accounts.admin, webhook)
        return log if log and log[0]["status"] == "succeeded" else None

    log = await eventually(delivered, what="the delivery to succeed")
    assert [d["status"] for d in log] == ["succeeded"]
    assert len(receiver.received) == 2
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1

    mails = smtp_server.wait_for(2)
    assert len({m["Message-ID"] for m in mails}) == 1
    assert all(f"[#{ticket['number']}]" in m["Subject"] for m in mails)
    failed = await accounts.admin.client.get("/api/v1/admin/mail")
    assert failed.json()["items"] == []
