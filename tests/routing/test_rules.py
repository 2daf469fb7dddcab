"""Assignment rules: admins keep them in order; new tickets (and chosen changes) are
routed by them, every rule that fires on the ticket's staff timeline."""

import asyncio
from collections import Counter
from typing import Any

import pytest
from httpx import AsyncClient

from tests.factories import Accounts, Person, make_user, signed_in, ticket_body
from tests.mailbox.mailroom import SUPPORT, mail
from tests.teams.test_endpoints import make_team
from ticketdesk.attachments.storage import open_storage
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.mailbox import service as mailbox
from ticketdesk.routing.schemas import Priority as RulePriority
from ticketdesk.routing.schemas import TicketType as RuleTicketType
from ticketdesk.tickets.schemas import Priority, TicketType

RULES = "/api/v1/assignment-rules"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Many tickets from few people; tickets opened by mail too."""
    return {
        "rate_limits": {"tickets_per_hour": 1000},
        "mail_from": f"Ticketdesk <{SUPPORT}>",
        "mail": {"open_tickets_by_mail": True},
    }


async def make_rule(accounts: Accounts, **body: Any) -> dict[str, Any]:
    """A rule made by the admin through the API."""
    response = await accounts.admin.client.post(RULES, json={"name": "A rule", **body})
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def make_label(accounts: Accounts, name: str) -> None:
    response = await accounts.admin.client.post("/api/v1/labels", json={"name": name})
    assert response.status_code == 201


async def open_ticket(person: Person, **overrides: Any) -> dict[str, Any]:
    """A ticket opened through the API, as its submitter sees it."""
    response = await person.client.post("/api/v1/tickets", json=ticket_body(**overrides))
    assert response.status_code == 201, response.text
    opened: dict[str, Any] = response.json()
    return opened


async def as_staff(accounts: Accounts, ticket: dict[str, Any]) -> dict[str, Any]:
    response = await accounts.agent.client.get(f"/api/v1/tickets/{ticket['id']}")
    seen: dict[str, Any] = response.json()
    return seen


async def events(client: AsyncClient, ticket: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/tickets/{ticket['id']}/events")
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def fired(accounts: Accounts, ticket: dict[str, Any]) -> list[str]:
    """The names of the rules that fired on the ticket, in order."""
    return [
        e["data"]["rule"]["name"]
        for e in await events(accounts.agent.client, ticket)
        if e["kind"] == "rule_applied"
    ]


def test_the_rules_know_the_tickets_types_and_priorities() -> None:
    assert RuleTicketType == TicketType
    assert RulePriority == Priority


class TestManagingRules:
    async def test_order_moves_and_deletes(self, accounts: Accounts) -> None:
        first = await make_rule(accounts, name="First", actions={"priority": "high"})
        second = await make_rule(accounts, name="Second", actions={"priority": "low"})
        third = await make_rule(accounts, name="Third", actions={"priority": "low"}, position=1)

        async def order() -> list[tuple[str, int]]:
            listed = (await accounts.admin.client.get(RULES)).json()
            return [(r["name"], r["position"]) for r in listed]

        assert await order() == [("Third", 1), ("First", 2), ("Second", 3)]
        moved = await accounts.admin.client.patch(
            f"{RULES}/{third['id']}", json={"position": 99, "enabled": False}
        )
        assert moved.status_code == 200
        assert moved.json()["enabled"] is False
        assert await order() == [("First", 1), ("Second", 2), ("Third", 3)]
        deleted = await accounts.admin.client.delete(f"{RULES}/{first['id']}")
        assert deleted.status_code == 204
        assert await order() == [("Second", 1), ("Third", 2)]
        assert second["conditions"] == {
            "types": [],
            "priorities": [],
            "labels": [],
            "metadata": {},
            "submitter_domains": [],
        }

    @pytest.mark.parametrize(
        ("body", "field", "code"),
        [
            ({"actions": {}}, "actions", "no_actions"),
            ({"actions": {"round_robin": True}}, "actions.round_robin", "round_robin_needs_team"),
            (
                {"actions": {"team_id": "00000000-0000-0000-0000-000000000009"}},
                "actions.team_id",
                "unknown_team",
            ),
            ({"actions": {"add_labels": ["nope"]}}, "actions.add_labels", "unknown_label"),
            (
                {"conditions": {"labels": ["nope"]}, "actions": {"priority": "low"}},
                "conditions.labels",
                "unknown_label",
            ),
            (
                {"conditions": {"types": ["question"]}, "actions": {"priority": "low"}},
                "conditions.types.0",
                "literal_error",
            ),
            (
                {
                    "conditions": {"submitter_domains": ["not a domain"]},
                    "actions": {"priority": "low"},
                },
                "conditions.submitter_domains.0",
                "value_error",
            ),
            ({"actions": {"priority": "urgent"}}, "actions.priority", "literal_error"),
            (
                {"conditions": {"metadata": {"os": "Linux\u0000"}}, "actions": {"priority": "low"}},
                "conditions.metadata",
                "value_error",
            ),
        ],
    )
    async def test_refused(
        self, accounts: Accounts, body: dict[str, Any], field: str, code: str
    ) -> None:
        response = await accounts.admin.client.post(RULES, json={"name": "Bad", **body})

        assert response.status_code == 422
        problem = response.json()
        fields = [problem.get("field"), *(e["field"] for e in problem.get("errors", []))]
        assert field in fields
        codes = [problem.get("code"), *(e["code"] for e in problem.get("errors", []))]
        assert code in codes
        assert (await accounts.admin.client.get(RULES)).json() == []

    async def test_a_label_renamed_or_deleted(self, accounts: Accounts) -> None:
        for name in ("vip", "billing"):
            await make_label(accounts, name)
        rule = await make_rule(
            accounts,
            conditions={"labels": ["vip"]},
            actions={"add_labels": ["billing", "vip"], "priority": "high"},
        )
        labels = {
            label["name"]: label["id"]
            for label in (await accounts.admin.client.get("/api/v1/labels")).json()
        }

        await accounts.admin.client.patch(f"/api/v1/labels/{labels['vip']}", json={"name": "Gold"})
        [renamed] = (await accounts.admin.client.get(RULES)).json()
        await accounts.admin.client.delete(f"/api/v1/labels/{labels['vip']}")
        [deleted] = (await accounts.admin.client.get(RULES)).json()

        assert renamed["id"] == rule["id"]
        assert renamed["conditions"]["labels"] == ["Gold"]
        assert renamed["actions"]["add_labels"] == ["Gold", "billing"]
        # Still asked for, so the rule fires on no ticket rather than on every one.
        assert deleted["conditions"]["labels"] == ["Gold"]
        assert deleted["actions"]["add_labels"] == ["billing"]

    async def test_assignee_must_be_staff(self, accounts: Accounts) -> None:
        response = await accounts.admin.client.post(
            RULES,
            json={"name": "Bad", "actions": {"assignee_id": str(accounts.alice.user.id)}},
        )

        assert response.status_code == 422
        assert response.json()["field"] == "actions.assignee_id"

    async def test_one_agent_or_round_robin(self, accounts: Accounts) -> None:
        team = await make_team(accounts, "Billing", [str(accounts.agent.user.id)])

        response = await accounts.admin.client.post(
            RULES,
            json={
                "name": "Bad",
                "actions": {
                    "team_id": team["id"],
                    "round_robin": True,
                    "assignee_id": str(accounts.agent.user.id),
                },
            },
        )

        assert response.status_code == 422
        assert response.json()["field"] == "actions.assignee_id"

    async def test_only_admins(self, accounts: Accounts) -> None:
        rule = await make_rule(accounts, actions={"priority": "low"})
        for person in (accounts.agent, accounts.alice):
            assert (await person.client.get(RULES)).status_code == 403
            patched = await person.client.patch(f"{RULES}/{rule['id']}", json={"enabled": False})
            assert patched.status_code == 403
        assert (await accounts.admin.client.get(RULES)).json()[0]["enabled"] is True


class TestConditions:
    @pytest.mark.parametrize(
        ("conditions", "matching", "other"),
        [
            ({"types": ["feature"]}, {"type": "feature"}, {"type": "bug"}),
            ({"priorities": ["critical", "high"]}, {"priority": "high"}, {"priority": "low"}),
            (
                {"metadata": {"plan": "enterprise", "seats": 50}},
                {"metadata": {"plan": "enterprise", "seats": 50, "os": "Linux"}},
                {"metadata": {"plan": "enterprise", "seats": "50"}},
            ),
            ({"metadata": {"beta": True}}, {"metadata": {"beta": True}}, {"metadata": {"beta": 1}}),
        ],
    )
    async def test_ticket_fields(
        self,
        accounts: Accounts,
        conditions: dict[str, Any],
        matching: dict[str, Any],
        other: dict[str, Any],
    ) -> None:
        await make_rule(
            accounts, name="Urgent lane", conditions=conditions, actions={"priority": "critical"}
        )

        hit = await open_ticket(accounts.alice, **matching)
        missed = await open_ticket(accounts.alice, **other)

        assert (await as_staff(accounts, hit))["priority"] == "critical"
        assert await fired(accounts, hit) == ["Urgent lane"]
        assert await fired(accounts, missed) == []
        assert (await as_staff(accounts, missed))["priority"] == other.get("priority", "medium")

    async def test_labels_all_of_them(self, accounts: Accounts) -> None:
        for name in ("billing", "VIP"):
            await make_label(accounts, name)
        await make_rule(
            accounts, conditions={"labels": ["billing", "vip"]}, actions={"priority": "high"}
        )

        # Staff may label a ticket as they open it.
        both = await open_ticket(accounts.agent, tags=["VIP", "billing"])
        one = await open_ticket(accounts.agent, tags=["billing"])

        assert (await as_staff(accounts, both))["priority"] == "high"
        assert (await as_staff(accounts, one))["priority"] == "medium"

    async def test_submitter_domain(self, accounts: Accounts, conn: Connection, app: Any) -> None:
        await make_rule(
            accounts, conditions={"submitter_domains": ["acme.com"]}, actions={"priority": "high"}
        )
        exact = await make_user(conn, name="Exact Person", email="exact@acme.com")
        sub = await make_user(conn, name="Sub Person", email="sub@eu.acme.com")
        near = await make_user(conn, name="Near Person", email="near@notacme.com")
        priorities = []
        for user in (exact, sub, near):
            async with signed_in(app, conn, user) as client:
                response = await client.post("/api/v1/tickets", json=ticket_body())
                ticket = await as_staff(accounts, response.json())
                priorities.append(ticket["priority"])

        assert priorities == ["high", "high", "medium"]

    async def test_every_condition_must_hold(self, accounts: Accounts) -> None:
        await make_rule(
            accounts,
            conditions={"types": ["bug"], "priorities": ["low"]},
            actions={"priority": "high"},
        )

        low_feature = await open_ticket(accounts.alice, type="feature", priority="low")

        assert (await as_staff(accounts, low_feature))["priority"] == "low"


class TestActions:
    async def test_team_agent_labels_and_priority(self, accounts: Accounts) -> None:
        await make_label(accounts, "billing")
        team = await make_team(accounts, "Billing", [str(accounts.agent.user.id)])
        await make_rule(
            accounts,
            name="Billing desk",
            actions={
                "team_id": team["id"],
                "assignee_id": str(accounts.agent.user.id),
                "add_labels": ["Billing"],
                "priority": "high",
            },
        )

        ticket = await open_ticket(accounts.alice)

        seen = await as_staff(accounts, ticket)
        assert seen["team"]["name"] == "Billing"
        assert seen["assigned_to"]["id"] == str(accounts.agent.user.id)
        assert seen["tags"] == ["billing"]
        assert seen["priority"] == "high"
        timeline = await events(accounts.agent.client, ticket)
        assert [e["kind"] for e in timeline][:2] == ["created", "rule_applied"]
        assert timeline[1]["data"]["rule"]["name"] == "Billing desk"
        assert timeline[1]["actor"] is None
        changes = [e for e in timeline[2:]]
        assert sorted(e["kind"] for e in changes) == [
            "assigned",
            "priority_changed",
            "tags_changed",
            "team_changed",
        ]
        assert all(e["data"]["rule"]["name"] == "Billing desk" for e in changes)

    async def test_the_submitter_sees_none_of_it(self, accounts: Accounts) -> None:
        await make_label(accounts, "billing")
        team = await make_team(accounts, "Billing", [str(accounts.agent.user.id)])
        await make_rule(
            accounts,
            name="Secret routing",
            actions={"team_id": team["id"], "round_robin": True, "add_labels": ["billing"]},
        )

        ticket = await open_ticket(accounts.alice)

        assert ticket["team"] is None
        assert ticket["team_id"] is None
        timeline = await events(accounts.alice.client, ticket)
        assert [e["kind"] for e in timeline] == ["created"]
        assert "Secret routing" not in str(timeline)

    async def test_a_deleted_label_is_no_longer_added(self, accounts: Accounts) -> None:
        await make_label(accounts, "billing")
        await make_rule(accounts, actions={"add_labels": ["billing"], "priority": "high"})
        [label] = (await accounts.admin.client.get("/api/v1/labels")).json()
        await accounts.admin.client.delete(f"/api/v1/labels/{label['id']}")

        ticket = await open_ticket(accounts.alice)

        seen = await as_staff(accounts, ticket)
        assert seen["tags"] == []
        assert seen["priority"] == "high"

    async def test_no_more_than_twenty_labels(self, accounts: Accounts) -> None:
        names = [f"label-{n:02d}" for n in range(21)]
        for name in names:
            await make_label(accounts, name)
        await make_rule(accounts, actions={"add_labels": [names[20]], "priority": "high"})

        ticket = await open_ticket(accounts.agent, tags=names[:20])

        seen = await as_staff(accounts, ticket)
        assert seen["tags"] == names[:20]
        assert seen["priority"] == "high"
        [applied] = [
            e for e in await events(accounts.agent.client, ticket) if e["kind"] == "rule_applied"
        ]
        assert applied["data"]["unavailable"] == ["add_labels"]

    async def test_an_agent_deactivated_since(self, accounts: Accounts, conn: Connection) -> None:
        gone = await make_user(conn, role="agent", name="Gone Agent")
        await make_rule(accounts, actions={"assignee_id": str(gone.id)})
        await accounts.admin.client.patch(f"/api/v1/users/{gone.id}", json={"is_active": False})

        ticket = await open_ticket(accounts.alice)

        assert (await as_staff(accounts, ticket))["assigned_to"] is None


class TestOrder:
    async def test_every_matching_rule_applies_in_order(self, accounts: Accounts) -> None:
        first = await make_team(accounts, "First line", [])
        second = await make_team(accounts, "Second line", [])
        await make_rule(accounts, name="To first", actions={"team_id": first["id"]})
        await make_rule(
            accounts, name="Never", conditions={"types": ["feature"]}, actions={"priority": "low"}
        )
        await make_rule(accounts, name="To second", actions={"team_id": second["id"]})

        ticket = await open_ticket(accounts.alice)

        assert await fired(accounts, ticket) == ["To first", "To second"]
        assert (await as_staff(accounts, ticket))["team"]["name"] == "Second line"

    async def test_a_later_rule_sees_what_an_earlier_did(self, accounts: Accounts) -> None:
        await make_rule(accounts, name="Raise", actions={"priority": "critical"})
        await make_rule(
            accounts,
            name="Critical",
            conditions={"priorities": ["critical"]},
            actions={"priority": "high"},
        )

        ticket = await open_ticket(accounts.alice, priority="low")

        assert await fired(accounts, ticket) == ["Raise", "Critical"]
        assert (await as_staff(accounts, ticket))["priority"] == "high"

    async def test_stop_processing(self, accounts: Accounts) -> None:
        await make_rule(
            accounts, name="Stop here", stop_processing=True, actions={"priority": "high"}
        )
        await make_rule(accounts, name="Not reached", actions={"priority": "low"})

        ticket = await open_ticket(accounts.alice)

        assert await fired(accounts, ticket) == ["Stop here"]
        assert (await as_staff(accounts, ticket))["priority"] == "high"

    async def test_a_disabled_rule_does_not_fire(self, accounts: Accounts) -> None:
        await make_rule(accounts, name="Off", enabled=False, actions={"priority": "critical"})

        ticket = await open_ticket(accounts.alice)

        assert await fired(accounts, ticket) == []
        assert (await as_staff(accounts, ticket))["priority"] == "medium"


class TestOnUpdate:
    async def test_only_rules_marked_run_on_a_change(self, accounts: Accounts) -> None:
        team = await make_team(accounts, "Incidents", [])
        await make_rule(
            accounts,
            name="Incidents",
            on_update=True,
            conditions={"priorities": ["critical"]},
            actions={"team_id": team["id"]},
        )
        await make_rule(
            accounts,
            name="Create only",
            conditions={"priorities": ["critical"]},
            actions={"add_labels": []} | {"priority": "high"},
        )
        ticket = await open_ticket(accounts.alice, priority="low")

        response = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket['id']}", json={"priority": "critical"}
        )

        assert response.json()["team"]["name"] == "Incidents"
        assert response.json()["priority"] == "critical"
        assert await fired(accounts, ticket) == ["Incidents"]

    async def test_other_changes_run_no_rule(self, accounts: Accounts) -> None:
        await make_rule(accounts, name="Any change", on_update=True, actions={"priority": "high"})
        ticket = await open_ticket(accounts.alice)
        await accounts.agent.client.put(f"/api/v1/tickets/{ticket['id']}", json={"priority": "low"})

        await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket['id']}", json={"title": "Only the title changes here"}
        )

        # On create, then on the priority change; not on the title.
        assert await fired(accounts, ticket) == ["Any change", "Any change"]

    async def test_through_bulk(self, accounts: Accounts) -> None:
        await make_rule(
            accounts,
            name="Critical",
            on_update=True,
            conditions={"priorities": ["critical"]},
            actions={"assignee_id": str(accounts.agent.user.id)},
        )
        ticket = await open_ticket(accounts.alice)

        await accounts.agent.client.post(
            "/api/v1/tickets/bulk",
            json={"ticket_ids": [ticket["id"]], "action": "priority", "value": "critical"},
        )

        assert (await as_staff(accounts, ticket))["assigned_to"]["id"] == str(
            accounts.agent.user.id
        )


class TestByMail:
    async def test_a_ticket_opened_by_mail_is_routed(
        self, accounts: Accounts, conn: Connection, settings: Settings
    ) -> None:
        team = await make_team(accounts, "Support", [str(accounts.agent.user.id)])
        await make_rule(
            accounts,
            name="Mail to support",
            conditions={"types": ["support"]},
            actions={"team_id": team["id"], "round_robin": True},
        )
        raw = mail(
            "new-request.eml",
            sender=accounts.alice.user.email,
            sender_name="Alice",
            subject="Invoices page is empty since this morning",
        )

        await mailbox.receive(conn, open_storage(settings), settings, raw, "pipe")

        [ticket] = (await accounts.agent.client.get("/api/v1/tickets")).json()["items"]
        assert ticket["title"] == "Invoices page is empty since this morning"
        assert ticket["team"]["name"] == "Support"
        assert ticket["assigned_to"]["id"] == str(accounts.agent.user.id)
        assert await fired(accounts, ticket) == ["Mail to support"]


class TestRoundRobin:
    async def _team_of_three(
        self, accounts: Accounts, conn: Connection
    ) -> tuple[dict[str, Any], list[str]]:
        members = [str((await make_user(conn, role="agent", name=f"Member {n}")).id) for n in "ABC"]
        team = await make_team(accounts, "Rotation", members)
        await make_rule(
            accounts, name="Rotate", actions={"team_id": team["id"], "round_robin": True}
        )
        return team, members

    async def _assignees(self, accounts: Accounts) -> Counter[str]:
        counts: Counter[str] = Counter()
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = (await accounts.agent.client.get("/api/v1/tickets", params=params)).json()
            counts.update(
                t["assigned_to"]["id"] if t["assigned_to"] else "nobody" for t in page["items"]
            )
            if not (cursor := page["next_cursor"]):
                return counts

    async def test_fair_over_100_tickets_created_at_once(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        _, members = await self._team_of_three(accounts, conn)
        at_once = asyncio.Semaphore(8)

        async def one(n: int) -> None:
            person = accounts.alice if n % 2 else accounts.bob
            async with at_once:
                await open_ticket(person, title=f"Ticket number {n:03d} of the hundred")

        await asyncio.gather(*(one(n) for n in range(100)))

        counts = await self._assignees(accounts)
        assert set(counts) == set(members)
        assert sorted(counts.values()) == [33, 33, 34]

    async def test_in_turn_and_passing_over_whoever_is_away(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        _, members = await self._team_of_three(accounts, conn)
        away = members[1]
        await accounts.admin.client.patch(f"/api/v1/users/{away}", json={"is_away": True})

        order = []
        for n in range(10):
            ticket = await open_ticket(accounts.alice, title=f"Ticket number {n:03d} in turn")
            order.append((await as_staff(accounts, ticket))["assigned_to"]["id"])

        present = [members[0], members[2]]
        assert order == present * 5
        # Back at their desk, they are next: given a ticket least recently (never).
        await accounts.admin.client.patch(f"/api/v1/users/{away}", json={"is_away": False})
        ticket = await open_ticket(accounts.alice, title="The first one after the leave")
        assert (await as_staff(accounts, ticket))["assigned_to"]["id"] == away

    async def test_passing_over_whoever_left_or_stopped_being_staff(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        _, members = await self._team_of_three(accounts, conn)
        await accounts.admin.client.patch(f"/api/v1/users/{members[0]}", json={"is_active": False})
        await accounts.admin.client.patch(f"/api/v1/users/{members[2]}", json={"role": "user"})

        order = []
        for n in range(3):
            ticket = await open_ticket(accounts.alice, title=f"Ticket number {n:03d} in turn")
            order.append((await as_staff(accounts, ticket))["assigned_to"]["id"])

        assert order == [members[1]] * 3

    async def test_no_one_there(self, accounts: Accounts, conn: Connection) -> None:
        team = await make_team(accounts, "Empty", [])
        await make_rule(
            accounts, name="Rotate", actions={"team_id": team["id"], "round_robin": True}
        )

        ticket = await open_ticket(accounts.alice)

        seen = await as_staff(accounts, ticket)
        assert seen["team"]["name"] == "Empty"
        assert seen["assigned_to"] is None
        [applied] = [
            e for e in await events(accounts.agent.client, ticket) if e["kind"] == "rule_applied"
        ]
        assert applied["data"]["unavailable"] == ["round_robin"]

    async def test_a_member_keeps_the_ticket(self, accounts: Accounts, conn: Connection) -> None:
        _, members = await self._team_of_three(accounts, conn)
        await accounts.admin.client.patch(
            f"{RULES}/{(await accounts.admin.client.get(RULES)).json()[0]['id']}",
            json={"on_update": True},
        )
        ticket = await open_ticket(accounts.alice)
        first = (await as_staff(accounts, ticket))["assigned_to"]["id"]

        await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket['id']}", json={"priority": "high"}
        )

        assert (await as_staff(accounts, ticket))["assigned_to"]["id"] == first
        assert first in members
