"""Pointing the integration at the fake GitHub, and sending it signed webhook deliveries."""

import hashlib
import hmac
import json
import uuid
from typing import Any

from httpx import AsyncClient, Response

from tests.factories import Accounts, create_ticket
from tests.fakes.github import FIXTURES, FakeGitHub
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.github import service
from ticketdesk.github.schemas import GitHubLinkRequest
from ticketdesk.ticket_detail import TicketDetail
from ticketdesk.tickets.access import get_visible_ticket

WEBHOOK = "/api/v1/integrations/github/webhook"
SECRET = "test-webhook-secret-0123456789"
# The repository and issue every payload in tests/fixtures/github/webhooks/ is about.
PAYLOAD_REPO = "Codertocat/Hello-World"
PAYLOAD_ISSUE = 1


def fixture_bytes(name: str) -> bytes:
    """A payload file exactly as stored: ``issue_comment/created``, ``ping``."""
    path = f"{name}/payload.json" if "/" not in name else f"{name}.payload.json"
    return (FIXTURES / "webhooks" / path).read_bytes()


def fixture_json(name: str) -> dict[str, Any]:
    """A payload file, parsed, to build payloads the fixtures lack (issues closed)."""
    payload: dict[str, Any] = json.loads(fixture_bytes(name))
    return payload


def sign(body: bytes, secret: str = SECRET) -> str:
    """The X-Hub-Signature-256 header GitHub would send."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def deliver(
    client: AsyncClient,
    event: str,
    body: bytes | dict[str, Any],
    *,
    delivery: str | None = None,
    signature: str | None = None,
) -> Response:
    """POST one delivery; a dict body is serialised, bytes are sent as they are."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await client.post(
        WEBHOOK,
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": signature if signature is not None else sign(raw),
            "User-Agent": "GitHub-Hookshot/test",
        },
    )


def outcome(response: Response) -> str:
    """What the app says a delivery did."""
    assert response.status_code == 200, response.text
    result: str = response.json()["outcome"]
    return result


def github_settings(gh: FakeGitHub, **github: Any) -> dict[str, Any]:
    """Settings overrides: the integration on and aimed at the fake, retries in fractions
    of a second."""
    return {
        "base_url": "https://desk.example.com",
        "tickets": {
            "github": {
                "enabled": True,
                "repo": PAYLOAD_REPO,
                "token": gh.token,
                "api_url": gh.base_url,
                "auto_create_issues": True,
                "webhook_secret": SECRET,
                "timeout_seconds": 1.0,
                **github,
            }
        },
        "jobs": {
            "retry_base_seconds": 0.1,
            "retry_cap_seconds": 0.5,
            "max_attempts": 4,
            "poll_interval_seconds": 0.2,
        },
    }


async def link_to_payload_issue(
    conn: Connection, accounts: Accounts, settings: Settings, **ticket: Any
) -> TicketDetail:
    """A ticket linked to the issue the fixture payloads are about."""
    created = await create_ticket(conn, accounts.alice, **ticket)
    async with conn.transaction():
        locked = await get_visible_ticket(conn, accounts.agent.actor, str(created.id))
        await service.request_link(
            conn,
            settings.tickets.github,
            accounts.agent.actor,
            locked,
            GitHubLinkRequest(issue_number=PAYLOAD_ISSUE),
        )
    return created
