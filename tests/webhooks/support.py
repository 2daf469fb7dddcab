"""Setting up endpoints through the API and waiting for their deliveries."""

from typing import Any

from tests.factories import Person
from tests.jobs.waiting import eventually

ALL_EVENTS = [
    "ticket.created",
    "ticket.assigned",
    "ticket.status_changed",
    "ticket.commented",
    "ticket.resolved",
    "ticket.closed",
]


async def create_webhook(admin: Person, url: str, **fields: Any) -> dict[str, Any]:
    """An endpoint an admin registers; the answer carries its secret."""
    body = {"name": "Receiver", "url": url, "events": ALL_EVENTS, **fields}
    response = await admin.client.post("/api/v1/webhooks", json=body)
    assert response.status_code == 201, response.text
    webhook: dict[str, Any] = response.json()
    return webhook


async def deliveries(admin: Person, webhook: dict[str, Any]) -> list[dict[str, Any]]:
    """The endpoint's delivery log, newest first, as an admin reads it."""
    response = await admin.client.get(f"/api/v1/webhooks/{webhook['id']}/deliveries")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def settled(admin: Person, webhook: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """Wait until the endpoint has ``count`` deliveries and none is pending."""

    async def done() -> list[dict[str, Any]] | None:
        items = await deliveries(admin, webhook)
        if len(items) == count and all(d["status"] != "pending" for d in items):
            return items
        return None

    return await eventually(done, what=f"{count} settled deliveries")
