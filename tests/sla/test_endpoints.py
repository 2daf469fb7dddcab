"""SLA policies: staff read them, admins write them; bad input is a 422 naming the field."""

from typing import Any

import pytest

from tests.factories import Accounts
from tests.sla.support import POLICIES, ROUND_THE_CLOCK, create_policy, policy_body


class TestPolicies:
    async def test_admin_writes_agent_reads_in_order(self, accounts: Accounts) -> None:
        later = await create_policy(accounts.admin, name="Standard", position=20)
        first = await create_policy(
            accounts.admin,
            name="VIP bugs",
            position=10,
            ticket_type="bug",
            label="vip",
            calendar={
                "time_zone": "Europe/Berlin",
                "week": {
                    "mon": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}]
                },
                "holiday_country": "DE",
                "holiday_subdivision": "BE",
                "holidays": ["2026-12-24"],
            },
        )
        assert first["calendar"]["holiday_country"] == "DE"
        assert first["calendar"]["week"]["mon"][1] == {"start": "13:00", "end": "17:00"}

        listed = await accounts.agent.client.get(POLICIES)
        assert listed.status_code == 200
        assert [p["name"] for p in listed.json()] == ["VIP bugs", "Standard"]

        changed = await accounts.admin.client.put(
            f"{POLICIES}/{later['id']}", json=policy_body(name="Standard", position=5)
        )
        assert changed.status_code == 200, changed.text
        listed = await accounts.agent.client.get(POLICIES)
        assert [p["name"] for p in listed.json()] == ["Standard", "VIP bugs"]

        gone = await accounts.admin.client.delete(f"{POLICIES}/{later['id']}")
        assert gone.status_code == 204
        assert (await accounts.agent.client.get(f"{POLICIES}/{later['id']}")).status_code == 404

    async def test_agents_may_not_write(self, accounts: Accounts) -> None:
        response = await accounts.agent.client.post(POLICIES, json=policy_body())
        assert response.status_code == 403
        assert (await accounts.admin.client.get(POLICIES)).json() == []

    async def test_a_name_is_taken_once(self, accounts: Accounts) -> None:
        await create_policy(accounts.admin, name="Standard")
        response = await accounts.admin.client.post(POLICIES, json=policy_body(name="standard"))
        assert response.status_code == 409
        assert response.json()["field"] == "name"

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"calendar": {**ROUND_THE_CLOCK, "time_zone": "Mars/Olympus"}}, "calendar.time_zone"),
            (
                {"calendar": {**ROUND_THE_CLOCK, "holiday_country": "XX"}},
                "calendar.holiday_country",
            ),
            (
                {
                    "calendar": {
                        **ROUND_THE_CLOCK,
                        "holiday_country": "DE",
                        "holiday_subdivision": "ZZ",
                    }
                },
                "calendar.holiday_subdivision",
            ),
            (
                {"calendar": {**ROUND_THE_CLOCK, "holiday_subdivision": "BY"}},
                "calendar.holiday_subdivision",
            ),
            (
                {
                    "calendar": {
                        "time_zone": "UTC",
                        "week": {
                            "wed": [
                                {"start": "13:00", "end": "17:00"},
                                {"start": "09:00", "end": "13:30"},
                            ]
                        },
                    }
                },
                "calendar.week.wed",
            ),
            (
                {
                    "calendar": {
                        "time_zone": "UTC",
                        "week": {"mon": [{"start": "17:00", "end": "09:00"}]},
                    }
                },
                "calendar.week.mon.0",
            ),
            ({"calendar": {"time_zone": "UTC", "week": {}}}, "calendar.week"),
            (
                {
                    "calendar": {
                        "time_zone": "UTC",
                        "week": {"tue": [{"start": "9am", "end": "17:00"}]},
                    }
                },
                "calendar.week.tue.0.start",
            ),
            ({"targets": []}, "targets"),
            ({"targets": [{"priority": "high"}]}, "targets.0"),
            (
                {"targets": [{"priority": "high", "first_response_minutes": 0}]},
                "targets.0.first_response_minutes",
            ),
            (
                {
                    "targets": [
                        {"priority": "high", "first_response_minutes": 5},
                        {"priority": "high", "resolution_minutes": 50},
                    ]
                },
                "targets",
            ),
            ({"ticket_type": "question"}, "ticket_type"),
        ],
    )
    async def test_bad_input_names_the_field(
        self, accounts: Accounts, change: dict[str, Any], field: str
    ) -> None:
        response = await accounts.admin.client.post(POLICIES, json=policy_body(**change))
        assert response.status_code == 422, response.text
        assert response.json()["field"] == field
        assert (await accounts.admin.client.get(POLICIES)).json() == []

    async def test_a_night_shift_is_two_ranges(self, accounts: Accounts) -> None:
        night = {"time_zone": "UTC", "week": {"mon": [{"start": "22:00", "end": "06:00"}]}}
        refused = await accounts.admin.client.post(POLICIES, json=policy_body(calendar=night))
        assert refused.status_code == 422
        assert refused.json()["field"] == "calendar.week.mon.0"
        assert "up to 24:00, then from 00:00 the next day" in refused.json()["detail"]

        split = {
            "time_zone": "UTC",
            "week": {
                "mon": [{"start": "22:00", "end": "24:00"}],
                "tue": [{"start": "00:00", "end": "06:00"}],
            },
        }
        await create_policy(accounts.admin, calendar=split)
