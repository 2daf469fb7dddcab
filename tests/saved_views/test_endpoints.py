"""Saved triage views: ``/api/v1/saved-views`` and their open counts."""

from typing import Any

import psycopg
import pytest
from httpx import AsyncClient

from tests.factories import Accounts, Person, create_ticket, make_user, signed_in, ticket_body
from tests.fields.support import define
from tests.teams.test_endpoints import make_team
from ticketdesk.db import Connection
from ticketdesk.labels import service as labels
from ticketdesk.labels.schemas import LabelCreate
from ticketdesk.saved_views import service
from ticketdesk.tickets import service as tickets_service

VIEWS = "/api/v1/saved-views"


async def _create(client: AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post(VIEWS, json={"name": "Urgent", **fields})
    assert response.status_code == 201, response.text
    view: dict[str, Any] = response.json()
    return view


async def _open(person: Person, **custom_fields: Any) -> str:
    body = ticket_body(custom_fields=custom_fields)
    response = await person.client.post("/api/v1/tickets", json=body)
    assert response.status_code == 201, response.text
    ticket_id: str = response.json()["id"]
    return ticket_id


async def _listed(client: AsyncClient) -> dict[str, dict[str, Any]]:
    response = await client.get(VIEWS)
    assert response.status_code == 200, response.text
    return {view["name"]: view for view in response.json()}


class TestListSavedViews:
    async def test_anonymous(self, anon: AsyncClient) -> None:
        assert (await anon.get(VIEWS)).status_code == 401

    async def test_submitter(self, accounts: Accounts) -> None:
        response = await accounts.alice.client.get(VIEWS)

        assert response.status_code == 403
        assert response.json()["code"] == "staff_only"

    async def test_shared_and_own_only(
        self, app: Any, accounts: Accounts, conn: Connection
    ) -> None:
        await _create(accounts.agent.client, name="Aaron's")
        await _create(accounts.agent.client, name="Team urgent", shared=True)
        other = await make_user(conn, role="agent", name="Olga Other")
        async with signed_in(app, conn, other) as olga:
            await _create(olga, name="Olga's")
            hers = await _listed(olga)

        assert list(await _listed(accounts.agent.client)) == ["Aaron's", "Team urgent"]
        assert list(hers) == ["Olga's", "Team urgent"]
        assert hers["Team urgent"]["mine"] is False
        assert hers["Olga's"]["mine"] is True


class TestCreateSavedView:
    async def test_valid(self, accounts: Accounts, conn: Connection) -> None:
        await labels.create_label(conn, LabelCreate(name="Billing"))
        filters = {
            "status": ["open", "waiting"],
            "priority": ["high", "critical"],
            "assignee": "none",
            "tags": ["billing"],
            "q": "export",
            "metadata": {"os": "Linux"},
            "created_after": "2025-01-02T12:00:00Z",
        }

        view = await _create(accounts.agent.client, filters=filters, sort="relevance")

        assert view["filters"]["tags"] == ["Billing"]
        assert view["filters"]["status"] == ["open", "waiting"]
        assert view["filters"]["assignee"] == "none"
        assert view["filters"]["metadata"] == {"os": "Linux"}
        assert view["sort"] == "relevance"
        assert (view["shared"], view["mine"]) == (False, True)
        assert (view["open_count"], view["open_count_capped"]) == (0, False)

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"filters": {"state": ["open"]}}, "filters.state"),
            ({"filters": {"status": ["finished"]}}, "filters.status.0"),
            ({"filters": {"assignee": "someone"}}, "filters.assignee"),
            ({"filters": {"tags": ["no-such-label"]}}, "filters.tags"),
            ({"filters": {"customer_replied": "yes"}}, "filters.customer_replied"),
            ({"filters": {"created_after": "last week"}}, "filters.created_after"),
            ({"filters": {"created_after": 1735819200}}, "filters.created_after"),
            ({"filters": {"updated_before": "2025-01-02"}}, "filters.updated_before"),
            ({"sort": "relevance"}, "sort"),
            ({"sort": "-title"}, "sort"),
            ({"name": ""}, "name"),
        ],
    )
    async def test_invalid(self, accounts: Accounts, body: dict[str, Any], field: str) -> None:
        response = await accounts.agent.client.post(VIEWS, json={"name": "Bad", **body})

        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["field"] == field
        assert await _listed(accounts.agent.client) == {}

    async def test_triage_filters_since(self, accounts: Accounts) -> None:
        team = await make_team(accounts, "Billing", [str(accounts.agent.user.id)])
        await define(accounts.admin, "severity", "select", options=["minor", "major"])
        await define(accounts.admin, "due", "date")
        filters = {
            "team": team["id"],
            "sla": ["at_risk", "breached"],
            "custom_fields": {"severity": ["major"], "due.from": ["2026-01-01"]},
        }

        view = await _create(accounts.agent.client, filters=filters)
        mine = await _create(accounts.agent.client, name="Ours", filters={"team": "mine"})

        listed = (await _listed(accounts.agent.client))["Urgent"]
        for saved in (view["filters"], listed["filters"]):
            assert {name: saved[name] for name in filters} == filters
        assert (mine["filters"]["team"], mine["filters"]["custom_fields"]) == ("mine", {})

    @pytest.mark.parametrize(
        ("filters", "field"),
        [
            ({"sla": ["late"]}, "filters.sla.0"),
            ({"team": "everyone"}, "filters.team"),
            ({"team": "00000000-0000-0000-0000-00000000000f"}, "filters.team"),
            ({"custom_fields": {"nope": ["x"]}}, "filters.custom_fields.nope"),
            ({"custom_fields": {"severity": ["huge"]}}, "filters.custom_fields.severity"),
            (
                {"custom_fields": {"severity.from": ["minor"]}},
                "filters.custom_fields.severity.from",
            ),
            ({"custom_fields": {"severity": []}}, "filters.custom_fields.severity"),
        ],
    )
    async def test_invalid_triage_filters_since(
        self, accounts: Accounts, filters: dict[str, Any], field: str
    ) -> None:
        await define(accounts.admin, "severity", "select", options=["minor", "major"])

        response = await accounts.agent.client.post(VIEWS, json={"name": "Bad", "filters": filters})

        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["field"] == field
        assert await _listed(accounts.agent.client) == {}

    async def test_duplicate_name(self, accounts: Accounts) -> None:
        await _create(accounts.agent.client)

        response = await accounts.agent.client.post(VIEWS, json={"name": "urgent"})

        assert response.status_code == 409
        assert response.json()["field"] == "name"


class TestChangeSavedView:
    async def test_owner_changes_and_deletes(self, accounts: Accounts) -> None:
        view = await _create(accounts.agent.client, filters={"priority": ["high"]})
        url = f"{VIEWS}/{view['id']}"

        changed = await accounts.agent.client.patch(
            url, json={"name": "Very urgent", "shared": True, "sort": "-updated"}
        )

        assert changed.status_code == 200
        assert changed.json()["name"] == "Very urgent"
        assert changed.json()["shared"] is True
        assert changed.json()["filters"] == {**view["filters"], "priority": ["high"]}
        assert (await accounts.agent.client.delete(url)).status_code == 204
        assert (await accounts.agent.client.get(url)).status_code == 404

    async def test_bad_change_changes_nothing(self, accounts: Accounts) -> None:
        view = await _create(accounts.agent.client, filters={"q": "export"}, sort="relevance")
        url = f"{VIEWS}/{view['id']}"

        response = await accounts.agent.client.patch(url, json={"filters": {"priority": ["high"]}})

        assert response.status_code == 422
        assert response.json()["field"] == "sort"
        assert (await accounts.agent.client.get(url)).json()["filters"]["q"] == "export"

    async def test_others(self, app: Any, accounts: Accounts, conn: Connection) -> None:
        personal = await _create(accounts.agent.client, name="Mine")
        shared = await _create(accounts.agent.client, name="Ours", shared=True)
        other = await make_user(conn, role="agent", name="Olga Other")
        async with signed_in(app, conn, other) as olga:
            hidden = await olga.patch(f"{VIEWS}/{personal['id']}", json={"name": "Hers"})
            refused = await olga.delete(f"{VIEWS}/{shared['id']}")
        by_admin = await accounts.admin.client.patch(
            f"{VIEWS}/{shared['id']}", json={"name": "Renamed by an admin"}
        )

        assert hidden.status_code == 404
        assert (refused.status_code, refused.json()["code"]) == (403, "not_view_owner")
        assert by_admin.status_code == 200
        assert list(await _listed(accounts.agent.client)) == ["Mine", "Renamed by an admin"]


class TestOpenCounts:
    async def test_counts_open_tickets_and_follow_changes(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        tickets = [await create_ticket(conn, accounts.alice, priority="high") for _ in range(3)]
        await create_ticket(conn, accounts.alice, priority="low")
        await _create(accounts.agent.client, filters={"priority": ["high"]})

        first = (await _listed(accounts.agent.client))["Urgent"]
        again = (await _listed(accounts.agent.client))["Urgent"]
        closed = await accounts.agent.client.delete(f"/api/v1/tickets/{tickets[0].id}/close")
        after = (await _listed(accounts.agent.client))["Urgent"]

        assert first["open_count"] == 3
        assert again["counted_at"] == first["counted_at"]  # nothing changed: kept
        assert closed.status_code == 200
        assert after["open_count"] == 2
        assert after["counted_at"] != first["counted_at"]

    async def test_a_change_committed_after_a_newer_one_is_counted(
        self, accounts: Accounts, conn: Connection, database_url: str
    ) -> None:
        first, second = [await create_ticket(conn, accounts.alice) for _ in range(2)]
        await _create(accounts.agent.client)
        slow = await psycopg.AsyncConnection.connect(database_url)
        async with slow, slow.transaction():
            # Its event is written first, so its id is the older one; it commits last.
            await tickets_service.close_ticket(
                slow, accounts.agent.actor, str(first.id), if_match=None
            )
            closed = await accounts.agent.client.delete(f"/api/v1/tickets/{second.id}/close")
            before = (await _listed(accounts.agent.client))["Urgent"]
            # However long ago the newer event was written.
            await conn.execute(
                "update ticket_events set created_at = created_at - interval '1 hour'"
            )
        after = (await _listed(accounts.agent.client))["Urgent"]

        assert closed.status_code == 200
        assert before["open_count"] == 1
        assert after["open_count"] == 0

    async def test_changed_filters_are_counted(self, accounts: Accounts, conn: Connection) -> None:
        for priority in ("high", "high", "low"):
            await create_ticket(conn, accounts.alice, priority=priority)
        view = await _create(accounts.agent.client, filters={"priority": ["high"]})
        kept = (await _listed(accounts.agent.client))["Urgent"]

        changed = await accounts.agent.client.patch(
            f"{VIEWS}/{view['id']}", json={"filters": {"priority": ["low"]}}
        )

        assert kept["counted_at"] == view["counted_at"]
        assert (view["open_count"], changed.json()["open_count"]) == (2, 1)
        assert (await _listed(accounts.agent.client))["Urgent"]["open_count"] == 1

    async def test_resolved_and_closed_are_not_open(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        await create_ticket(conn, accounts.alice)
        await _create(
            accounts.agent.client, name="Done", filters={"status": ["resolved", "closed"]}
        )
        await _create(accounts.agent.client, name="Any", filters={"status": ["open", "closed"]})

        listed = await _listed(accounts.agent.client)

        assert listed["Done"]["open_count"] == 0
        assert listed["Any"]["open_count"] == 1

    async def test_me_is_whoever_looks(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await create_ticket(conn, accounts.alice)
        assigned = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}/assign",
            json={"assignee_id": str(accounts.agent.user.id)},
        )
        assert assigned.status_code == 200
        await _create(accounts.agent.client, name="Mine", shared=True, filters={"assignee": "me"})

        agents = (await _listed(accounts.agent.client))["Mine"]
        admins = (await _listed(accounts.admin.client))["Mine"]

        assert agents["open_count"] == 1
        assert admins["open_count"] == 0

    async def test_team_sla_and_custom_fields_are_counted(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        team = await make_team(accounts, "Billing", [str(accounts.agent.user.id)])
        await define(accounts.admin, "severity", "select", options=["minor", "major"])
        major = [await _open(accounts.alice, severity="major") for _ in range(3)]
        await _open(accounts.alice, severity="minor")
        for ticket_id in major[:2]:
            routed = await accounts.agent.client.put(
                f"/api/v1/tickets/{ticket_id}/assign",
                json={"assignee_id": None, "team_id": team["id"]},
            )
            assert routed.status_code == 200, routed.text
        await conn.execute("update tickets set sla_state = 'breached' where id = %s", (major[0],))
        cf = {"custom_fields": {"severity": ["major"]}}
        await _create(accounts.agent.client, name="Major", filters=cf)
        await _create(accounts.agent.client, name="Billing", filters={"team": team["id"]})
        await _create(accounts.agent.client, name="No team", filters={"team": "none", **cf})
        await _create(accounts.agent.client, name="Ours", shared=True, filters={"team": "mine"})
        await _create(accounts.agent.client, name="Late", filters={"sla": ["breached"]})

        agents = await _listed(accounts.agent.client)
        admins = await _listed(accounts.admin.client)

        assert {name: view["open_count"] for name, view in agents.items()} == {
            "Major": 3,
            "Billing": 2,
            "No team": 1,
            "Ours": 2,
            "Late": 1,
        }
        assert admins["Ours"]["open_count"] == 0  # not in the team

    async def test_counts_follow_the_sla_clock_and_team_members(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        team = await make_team(accounts, "Billing", [])
        ticket = await create_ticket(conn, accounts.alice)
        routed = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}/assign",
            json={"assignee_id": None, "team_id": team["id"]},
        )
        assert routed.status_code == 200, routed.text
        await _create(accounts.agent.client, name="Ours", filters={"team": "mine"})
        await _create(accounts.agent.client, name="At risk", filters={"sla": ["at_risk"]})
        before = await _listed(accounts.agent.client)

        # Neither is a ticket event: the clock turns a ticket at risk, an admin adds a member.
        await conn.execute("update tickets set sla_state = 'at_risk' where id = %s", (ticket.id,))
        joined = await accounts.admin.client.patch(
            f"/api/v1/teams/{team['id']}", json={"member_ids": [str(accounts.agent.user.id)]}
        )
        assert joined.status_code == 200, joined.text
        after = await _listed(accounts.agent.client)

        assert (before["Ours"]["open_count"], before["At risk"]["open_count"]) == (0, 0)
        assert (after["Ours"]["open_count"], after["At risk"]["open_count"]) == (1, 1)

    async def test_a_deleted_field_lists_nothing(self, accounts: Accounts) -> None:
        field = await define(accounts.admin, "severity", "select", options=["minor", "major"])
        await _open(accounts.alice, severity="major")
        await _create(accounts.agent.client, filters={"custom_fields": {"severity": ["major"]}})
        deleted = await accounts.admin.client.delete(f"/api/v1/custom-fields/{field['id']}")
        assert deleted.status_code == 204, deleted.text

        view = (await _listed(accounts.agent.client))["Urgent"]

        assert view["filters"]["custom_fields"] == {"severity": ["major"]}
        assert view["open_count"] == 0

    async def test_bounded(
        self, accounts: Accounts, conn: Connection, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(service, "COUNT_CAP", 2)
        for _ in range(3):
            await create_ticket(conn, accounts.alice)

        view = await _create(accounts.agent.client)

        assert (view["open_count"], view["open_count_capped"]) == (2, True)
