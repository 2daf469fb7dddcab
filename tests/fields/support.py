"""Defining custom fields the way an admin does, for the tests to build on."""

from typing import Any

from tests.factories import Person

FIELDS = "/api/v1/custom-fields"


async def define(admin: Person, key: str, type: str, **parts: Any) -> dict[str, Any]:
    """A new custom field, defined through the API by ``admin``."""
    body = {"key": key, "label": parts.pop("label", key.replace("_", " ").title()), "type": type}
    response = await admin.client.post(FIELDS, json={**body, **parts})
    assert response.status_code == 201, response.text
    field: dict[str, Any] = response.json()
    return field
