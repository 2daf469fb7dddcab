"""Custom field values on tickets: set when a ticket is opened and when it is changed,
checked against each field's type (a 422 naming ``custom_fields.<key>``, nothing
stored), required per ticket type, on the timeline, and staff-only ones for staff eyes."""

from typing import Any

import pytest

from tests.factories import Accounts, Person, ticket_body
from tests.fields.support import define

TICKETS = "/api/v1/tickets"


async def _open(person: Person, **fields: Any) -> dict[str, Any]:
    response = await person.client.post(TICKETS, json=ticket_body(custom_fields=fields))
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


async def _every_type(admin: Person) -> None:
    await define(admin, "summary", "text")
    await define(admin, "estimate", "number")
    await define(admin, "due", "date")
    await define(admin, "severity", "select", options=["minor", "major", "critical"])
    await define(admin, "platforms", "multi_select", options=["linux", "mac", "windows"])
    await define(admin, "regression", "checkbox")


class TestOnCreate:
    async def test_every_type(self, accounts: Accounts) -> None:
        await _every_type(accounts.admin)
        ticket = await _open(
            accounts.alice,
            summary="  Export is empty ",
            estimate=2.5,
            due="2026-03-01",
            severity="major",
            platforms=["windows", "linux"],
            regression=False,
        )
        expected = {
            "summary": "Export is empty",
            "estimate": 2.5,
            "due": "2026-03-01",
            "severity": "major",
            # In the field's order of options.
            "platforms": ["linux", "windows"],
            "regression": False,
        }
        assert ticket["custom_fields"] == expected
        read = await accounts.agent.client.get(f"{TICKETS}/{ticket['id']}")
        assert read.json()["custom_fields"] == expected
        listed = (await accounts.alice.client.get(TICKETS)).json()["items"]
        assert listed[0]["custom_fields"] == expected

    async def test_whole_numbers_stay_whole(self, accounts: Accounts) -> None:
        await define(accounts.admin, "estimate", "number")
        ticket = await _open(accounts.alice, estimate=3)
        assert ticket["custom_fields"] == {"estimate": 3}
        assert isinstance(ticket["custom_fields"]["estimate"], int)

    @pytest.mark.parametrize(
        ("key", "value"),
        [
            ("summary", 5),
            ("summary", "x" * 1001),
            ("summary", "a\x00b"),
            ("estimate", "5"),
            ("estimate", True),
            ("estimate", 1e16),
            ("estimate", 0.12345678901),
            ("due", "2026-02-30"),
            ("due", "01/03/2026"),
            ("due", "2026-03-01T00:00:00Z"),
            ("severity", "blocker"),
            ("severity", ["major"]),
            ("platforms", "linux"),
            ("platforms", ["linux", "linux"]),
            ("platforms", ["bsd"]),
            ("regression", 1),
            ("regression", "true"),
            ("nonexistent", "x"),
        ],
    )
    async def test_each_type_refuses_what_is_not_its_own(
        self, accounts: Accounts, key: str, value: Any
    ) -> None:
        await _every_type(accounts.admin)
        response = await accounts.alice.client.post(
            TICKETS, json=ticket_body(custom_fields={"summary": "fine", key: value})
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["field"] == f"custom_fields.{key}"
        # Nothing stored half-way: no ticket, no value.
        assert (await accounts.agent.client.get(TICKETS)).json()["items"] == []

    async def test_required_for_its_types_only(self, accounts: Accounts) -> None:
        await define(
            accounts.admin,
            "severity",
            "select",
            options=["minor", "major"],
            ticket_types=["bug", "support"],
            required_for=["bug"],
        )
        missing = await accounts.alice.client.post(TICKETS, json=ticket_body(type="bug"))
        assert missing.status_code == 422
        assert missing.json()["code"] == "custom_field_required"
        assert missing.json()["field"] == "custom_fields.severity"
        null = await accounts.alice.client.post(
            TICKETS, json=ticket_body(type="bug", custom_fields={"severity": None})
        )
        assert null.status_code == 422
        assert null.json()["field"] == "custom_fields.severity"

        support = await accounts.alice.client.post(TICKETS, json=ticket_body(type="support"))
        assert support.status_code == 201
        # A field is set only on the ticket types it is for.
        feature = await accounts.alice.client.post(
            TICKETS, json=ticket_body(type="feature", custom_fields={"severity": "major"})
        )
        assert feature.status_code == 422
        assert feature.json()["code"] == "field_not_for_type"
        assert feature.json()["field"] == "custom_fields.severity"
        bug = await _open(accounts.alice, severity="minor")
        assert bug["custom_fields"] == {"severity": "minor"}

    async def test_a_submitter_cannot_see_or_set_a_staff_only_field(
        self, accounts: Accounts
    ) -> None:
        await define(accounts.admin, "root_cause", "text", staff_only=True, required_for=["bug"])
        # Unknown to them: the same answer as a key that does not exist.
        response = await accounts.alice.client.post(
            TICKETS, json=ticket_body(custom_fields={"root_cause": "guess"})
        )
        assert response.status_code == 422
        assert response.json()["code"] == "unknown_custom_field"
        # Required of those who may set it: staff.
        assert (await accounts.alice.client.post(TICKETS, json=ticket_body())).status_code == 201
        staff = await accounts.agent.client.post(TICKETS, json=ticket_body())
        assert staff.status_code == 422
        assert staff.json()["field"] == "custom_fields.root_cause"


class TestOnUpdate:
    async def test_change_clear_and_timeline(self, accounts: Accounts) -> None:
        await _every_type(accounts.admin)
        ticket = await _open(accounts.alice, severity="minor", summary="Empty export")
        url = f"{TICKETS}/{ticket['id']}"

        response = await accounts.alice.client.put(
            url,
            json={"custom_fields": {"severity": "major", "summary": None, "estimate": 4}},
            headers={"If-Match": f'"{ticket["version"]}"'},
        )
        assert response.status_code == 200, response.text
        updated = response.json()
        assert updated["custom_fields"] == {"severity": "major", "estimate": 4}
        assert updated["version"] == ticket["version"] + 1
        assert response.headers["ETag"] == f'"{updated["version"]}"'

        # The same values again change nothing.
        same = await accounts.alice.client.put(url, json={"custom_fields": {"severity": "major"}})
        assert same.json()["version"] == updated["version"]

        events = (await accounts.alice.client.get(f"{url}/events")).json()["items"]
        changes = [e for e in events if e["kind"] == "custom_field_changed"]
        assert sorted(
            (e["data"]["field"], e["data"]["from"], e["data"]["to"]) for e in changes
        ) == [
            ("estimate", None, 4),
            ("severity", "minor", "major"),
            ("summary", "Empty export", None),
        ]
        assert {e["data"]["label"] for e in changes} == {"Estimate", "Severity", "Summary"}
        assert all(e["actor"]["id"] == str(accounts.alice.user.id) for e in changes)

    async def test_refused_values_change_nothing(self, accounts: Accounts) -> None:
        await _every_type(accounts.admin)
        ticket = await _open(accounts.alice, severity="minor")
        url = f"{TICKETS}/{ticket['id']}"
        response = await accounts.agent.client.put(
            url,
            json={"priority": "high", "custom_fields": {"severity": "major", "due": "tomorrow"}},
        )
        assert response.status_code == 422
        assert response.json()["field"] == "custom_fields.due"
        after = (await accounts.agent.client.get(url)).json()
        assert after["priority"] == "medium"
        assert after["custom_fields"] == {"severity": "minor"}
        assert after["version"] == ticket["version"]

    async def test_a_required_field_cannot_be_cleared(self, accounts: Accounts) -> None:
        await define(accounts.admin, "severity", "select", options=["minor"], required_for=["bug"])
        ticket = await _open(accounts.alice, severity="minor")
        response = await accounts.agent.client.put(
            f"{TICKETS}/{ticket['id']}", json={"custom_fields": {"severity": None}}
        )
        assert response.status_code == 422
        assert response.json()["code"] == "custom_field_required"
        assert response.json()["field"] == "custom_fields.severity"

    async def test_not_on_a_closed_ticket_by_its_submitter(self, accounts: Accounts) -> None:
        await define(accounts.admin, "summary", "text")
        ticket = await _open(accounts.alice)
        await accounts.agent.client.delete(f"{TICKETS}/{ticket['id']}/close")
        response = await accounts.alice.client.put(
            f"{TICKETS}/{ticket['id']}", json={"custom_fields": {"summary": "late"}}
        )
        assert response.status_code == 409
        assert response.json()["code"] == "ticket_closed"

    async def test_staff_only_values_never_reach_the_submitter(self, accounts: Accounts) -> None:
        await define(accounts.admin, "severity", "select", options=["minor", "major"])
        await define(accounts.admin, "root_cause", "text", staff_only=True)
        ticket = await _open(accounts.alice, severity="minor")
        url = f"{TICKETS}/{ticket['id']}"
        response = await accounts.agent.client.put(
            url, json={"custom_fields": {"root_cause": "Cache key FRD-9981 collides"}}
        )
        assert response.status_code == 200
        assert response.json()["custom_fields"] == {
            "severity": "minor",
            "root_cause": "Cache key FRD-9981 collides",
        }

        alice = accounts.alice.client
        answers = [
            await alice.get(url),
            await alice.get(TICKETS),
            await alice.get(f"{url}/events"),
            await alice.put(url, json={"custom_fields": {"severity": "major"}}),
        ]
        for answer in answers:
            assert answer.status_code == 200, answer.text
            assert "FRD-9981" not in answer.text
            assert "root_cause" not in answer.text
        assert answers[0].json()["custom_fields"] == {"severity": "minor"}
        # Setting it is refused as if it did not exist.
        refused = await alice.put(url, json={"custom_fields": {"root_cause": "x"}})
        assert refused.status_code == 422
        assert refused.json()["code"] == "unknown_custom_field"
        # Staff see the change on the timeline, as internal.
        events = (await accounts.agent.client.get(f"{url}/events")).json()["items"]
        [change] = [e for e in events if e["data"].get("field") == "root_cause"]
        assert change["kind"] == "custom_field_changed"

    async def test_made_staff_only_its_past_changes_leave_the_submitters_timeline(
        self, accounts: Accounts
    ) -> None:
        field = await define(accounts.admin, "root_cause", "text")
        ticket = await _open(accounts.alice)
        url = f"{TICKETS}/{ticket['id']}"
        response = await accounts.agent.client.put(
            url, json={"custom_fields": {"root_cause": "Cache key FRD-9981 collides"}}
        )
        assert response.status_code == 200, response.text
        assert "FRD-9981" in (await accounts.alice.client.get(f"{url}/events")).text

        made = await accounts.admin.client.patch(
            f"/api/v1/custom-fields/{field['id']}", json={"staff_only": True}
        )
        assert made.status_code == 200, made.text
        assert "FRD-9981" not in (await accounts.alice.client.get(f"{url}/events")).text
        staff = (await accounts.agent.client.get(f"{url}/events")).json()["items"]
        [change] = [e for e in staff if e["kind"] == "custom_field_changed"]
        assert change["data"]["to"] == "Cache key FRD-9981 collides"
