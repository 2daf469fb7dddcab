"""Custom field definitions: admins define, change and delete them; everyone signed in
reads those they may see (submitters never see a staff-only one)."""

from typing import Any

import pytest
from httpx import AsyncClient

from tests.factories import Accounts, ticket_body
from tests.fields.support import FIELDS, define


class TestDefine:
    async def test_each_type(self, accounts: Accounts) -> None:
        for key, type in (
            ("summary", "text"),
            ("estimate", "number"),
            ("due", "date"),
            ("checked", "checkbox"),
        ):
            field = await define(accounts.admin, key, type)
            assert field["type"] == type
            assert field["options"] == []
            assert field["ticket_types"] == ["bug", "feature", "support"]
            assert field["required_for"] == []
            assert field["staff_only"] is False
        severity = await define(
            accounts.admin,
            "severity",
            "select",
            label="  Severity ",
            options=["minor", "major", "critical"],
            ticket_types=["bug"],
            required_for=["bug"],
        )
        assert severity["label"] == "Severity"
        assert severity["options"] == ["minor", "major", "critical"]
        assert severity["required_for"] == ["bug"]

        listed = (await accounts.agent.client.get(FIELDS)).json()
        assert [f["key"] for f in listed] == ["summary", "estimate", "due", "checked", "severity"]

    async def test_key_is_unique(self, accounts: Accounts) -> None:
        await define(accounts.admin, "severity", "text")
        response = await accounts.admin.client.post(
            FIELDS, json={"key": "severity", "label": "Again", "type": "number"}
        )
        assert response.status_code == 409
        assert response.json()["code"] == "field_exists"
        assert response.json()["field"] == "key"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"key": "Severity"}, "key"),
            ({"key": "1st"}, "key"),
            ({"key": "a" * 41}, "key"),
            ({"label": ""}, "label"),
            ({"type": "colour"}, "type"),
            ({"type": "select"}, "options"),
            ({"type": "multi_select", "options": ["a", "a"]}, "options"),
            ({"type": "text", "options": ["a"]}, "options"),
            ({"ticket_types": []}, "ticket_types"),
            ({"ticket_types": ["bug"], "required_for": ["feature"]}, "required_for"),
            ({"staff_only": 1}, "staff_only"),
        ],
    )
    async def test_invalid(self, accounts: Accounts, body: dict[str, Any], field: str) -> None:
        full = {"key": "severity", "label": "Severity", "type": "text", **body}
        response = await accounts.admin.client.post(FIELDS, json=full)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["field"] == field
        assert (await accounts.admin.client.get(FIELDS)).json() == []

    async def test_only_admins(self, accounts: Accounts, anon: AsyncClient) -> None:
        body = {"key": "severity", "label": "Severity", "type": "text"}
        assert (await anon.post(FIELDS, json=body)).status_code == 401
        for person in (accounts.alice, accounts.agent):
            response = await person.client.post(FIELDS, json=body)
            assert response.status_code == 403
        assert (await accounts.admin.client.get(FIELDS)).json() == []


class TestRead:
    async def test_staff_only_fields_are_for_staff(
        self, accounts: Accounts, anon: AsyncClient
    ) -> None:
        await define(accounts.admin, "severity", "select", options=["minor", "major"])
        await define(accounts.admin, "root_cause", "text", staff_only=True)

        assert [f["key"] for f in (await accounts.alice.client.get(FIELDS)).json()] == ["severity"]
        for person in (accounts.agent, accounts.admin):
            keys = [f["key"] for f in (await person.client.get(FIELDS)).json()]
            assert keys == ["severity", "root_cause"]
        assert (await anon.get(FIELDS)).status_code == 401


class TestChange:
    async def test_label_options_audience(self, accounts: Accounts) -> None:
        field = await define(accounts.admin, "severity", "select", options=["minor", "major"])
        response = await accounts.admin.client.patch(
            f"{FIELDS}/{field['id']}",
            json={
                "label": "How bad",
                "options": ["minor", "major", "critical"],
                "staff_only": True,
            },
        )
        assert response.status_code == 200, response.text
        changed = response.json()
        assert changed["key"] == "severity"
        assert changed["label"] == "How bad"
        assert changed["options"] == ["minor", "major", "critical"]
        assert changed["staff_only"] is True

    async def test_key_and_type_never_change(self, accounts: Accounts) -> None:
        field = await define(accounts.admin, "severity", "text")
        for body in ({"key": "other"}, {"type": "number"}):
            response = await accounts.admin.client.patch(f"{FIELDS}/{field['id']}", json=body)
            assert response.status_code == 422
            assert response.json()["field"] == next(iter(body))

    async def test_an_option_in_use_stays(self, accounts: Accounts) -> None:
        field = await define(accounts.admin, "severity", "select", options=["minor", "major"])
        created = await accounts.alice.client.post(
            "/api/v1/tickets", json=ticket_body(custom_fields={"severity": "major"})
        )
        assert created.status_code == 201, created.text

        response = await accounts.admin.client.patch(
            f"{FIELDS}/{field['id']}", json={"options": ["minor"]}
        )
        assert response.status_code == 409
        assert response.json()["code"] == "option_in_use"
        assert response.json()["field"] == "options"
        # An option nobody chose may go.
        response = await accounts.admin.client.patch(
            f"{FIELDS}/{field['id']}", json={"options": ["major"]}
        )
        assert response.status_code == 200
        assert response.json()["options"] == ["major"]

    async def test_required_types_must_be_its_types(self, accounts: Accounts) -> None:
        field = await define(accounts.admin, "severity", "text", required_for=["bug"])
        response = await accounts.admin.client.patch(
            f"{FIELDS}/{field['id']}", json={"ticket_types": ["feature"]}
        )
        assert response.status_code == 422
        assert response.json()["field"] == "required_for"

    async def test_not_found_and_not_admin(self, accounts: Accounts) -> None:
        field = await define(accounts.admin, "severity", "text")
        missing = "0190a0b0-0000-7000-8000-000000000000"
        response = await accounts.admin.client.patch(f"{FIELDS}/{missing}", json={"label": "x"})
        assert response.status_code == 404
        for person in (accounts.alice, accounts.agent):
            response = await person.client.patch(f"{FIELDS}/{field['id']}", json={"label": "x"})
            assert response.status_code == 403


class TestDelete:
    async def test_takes_every_value_with_it(self, accounts: Accounts) -> None:
        field = await define(accounts.admin, "severity", "select", options=["minor", "major"])
        await define(accounts.admin, "summary", "text")
        created = await accounts.alice.client.post(
            "/api/v1/tickets",
            json=ticket_body(custom_fields={"severity": "major", "summary": "It broke"}),
        )
        ticket_id = created.json()["id"]

        for person in (accounts.alice, accounts.agent):
            response = await person.client.delete(f"{FIELDS}/{field['id']}")
            assert response.status_code == 403
        response = await accounts.admin.client.delete(f"{FIELDS}/{field['id']}")
        assert response.status_code == 204
        ticket = (await accounts.agent.client.get(f"/api/v1/tickets/{ticket_id}")).json()
        assert ticket["custom_fields"] == {"summary": "It broke"}
        again = await accounts.admin.client.delete(f"{FIELDS}/{field['id']}")
        assert again.status_code == 404
