"""SLA policies as tests write them, and reading a ticket's clocks."""

from typing import Any

from tests.factories import Person

POLICIES = "/api/v1/sla-policies"
ROUND_THE_CLOCK = {
    "time_zone": "UTC",
    "week": {
        day: [{"start": "00:00", "end": "24:00"}]
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    },
}


def policy_body(**overrides: Any) -> dict[str, Any]:
    """A policy counting every hour of every day (so a test's real minutes are business
    minutes): high tickets answered within an hour, resolved within four."""
    body: dict[str, Any] = {
        "name": "Round the clock",
        "calendar": ROUND_THE_CLOCK,
        "targets": [
            {"priority": "high", "first_response_minutes": 60, "resolution_minutes": 240},
        ],
    }
    body.update(overrides)
    return body


async def create_policy(admin: Person, **overrides: Any) -> dict[str, Any]:
    """A policy an admin adds."""
    response = await admin.client.post(POLICIES, json=policy_body(**overrides))
    assert response.status_code == 201, response.text
    policy: dict[str, Any] = response.json()
    return policy


async def ticket_as(person: Person, ticket: dict[str, Any]) -> dict[str, Any]:
    """The ticket as ``person`` reads it."""
    response = await person.client.get(f"/api/v1/tickets/{ticket['id']}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def clocks_of(person: Person, ticket: dict[str, Any]) -> dict[str, Any] | None:
    """The ticket's SLA clocks as staff read them."""
    response = await person.client.get(f"/api/v1/tickets/{ticket['id']}/sla")
    assert response.status_code == 200, response.text
    found: dict[str, Any] | None = response.json()
    return found
