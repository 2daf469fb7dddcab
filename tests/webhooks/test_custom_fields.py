"""Custom fields in webhook payloads: every endpoint gets the ticket's public fields,
only staff-only endpoints its staff-only ones (and a message holding them is not sent
to an endpoint that is no longer staff-only)."""

import json
from typing import Any

import pytest

from tests.factories import Accounts
from tests.fields.support import define
from tests.notifications.support import open_ticket
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import create_webhook, deliveries, settled
from tests.workers import running_worker


@pytest.mark.usefixtures("worker")
async def test_payloads_carry_the_fields_their_endpoint_may_read(
    accounts: Accounts, receiver: Receiver
) -> None:
    await define(accounts.admin, "severity", "select", options=["minor", "major"])
    await define(accounts.admin, "estimate", "number")
    await define(accounts.admin, "root_cause", "text", staff_only=True)
    events = ["ticket.created", "ticket.status_changed"]
    public = await create_webhook(accounts.admin, f"{receiver.url}/public", events=events)
    staff = await create_webhook(
        accounts.admin, f"{receiver.url}/staff", events=events, staff_only=True
    )

    ticket = await open_ticket(accounts.alice, custom_fields={"severity": "major"})
    response = await accounts.agent.client.put(
        f"/api/v1/tickets/{ticket['id']}",
        json={"status": "in_progress", "custom_fields": {"root_cause": "Cache FRD-1234"}},
    )
    assert response.status_code == 200, response.text
    await settled(accounts.admin, public, 2)
    await settled(accounts.admin, staff, 2)

    received: dict[tuple[str, str], dict[str, Any]] = {}
    for r in receiver.received:
        body = json.loads(r.body)
        assert "staff_only_fields" not in body
        received[(r.path, body["type"])] = body["data"]["ticket"]["custom_fields"]
    assert received == {
        ("/hook/public", "ticket.created"): {"severity": "major"},
        ("/hook/staff", "ticket.created"): {"severity": "major"},
        ("/hook/public", "ticket.status_changed"): {"severity": "major"},
        ("/hook/staff", "ticket.status_changed"): {
            "severity": "major",
            "root_cause": "Cache FRD-1234",
        },
    }


async def test_a_staff_message_waits_for_no_endpoint_that_opened_up(
    accounts: Accounts, receiver: Receiver, app: Any, settings: Any
) -> None:
    """Queued for a staff-only endpoint, then the endpoint is made public: the message
    with a staff-only value is cancelled, not sent."""
    await define(accounts.admin, "root_cause", "text", staff_only=True)
    staff = await create_webhook(
        accounts.admin, receiver.url, events=["ticket.status_changed"], staff_only=True
    )
    ticket = await open_ticket(accounts.alice)
    await accounts.agent.client.put(
        f"/api/v1/tickets/{ticket['id']}",
        json={"status": "in_progress", "custom_fields": {"root_cause": "FRD-1234"}},
    )
    opened_up = await accounts.admin.client.patch(
        f"/api/v1/webhooks/{staff['id']}", json={"staff_only": False}
    )
    assert opened_up.status_code == 200, opened_up.text
    async with running_worker(app, settings):
        [delivery] = await settled(accounts.admin, staff, 1)
    assert delivery["status"] == "cancelled"
    assert receiver.received == []
    assert len(await deliveries(accounts.admin, staff)) == 1
