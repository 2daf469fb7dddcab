"""Teams: admins make them, staff route tickets to them and list a team's queue."""

import asyncio
from typing import Any
from uuid import UUID

import psycopg
import pytest
from httpx import AsyncClient
from psycopg import sql
from psycopg.rows import dict_row

from tests.factories import Accounts, create_ticket, make_user
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.errors import Conflict
from ticketdesk.routing import service as routing
from ticketdesk.routing.schemas import RuleActions, RuleCreate
from ticketdesk.tickets import listing
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.schemas import TicketFilters

WINDOW = Settings().reopen_window

TEAMS = "/api/v1/teams"


async def make_team(accounts: Accounts, name: str, members: list[str]) -> dict[str, Any]:
    """A team made by the admin through the API."""
    response = await accounts.admin.client.post(TEAMS, json={"name": name, "member_ids": members})
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def _events(client: AsyncClient, ticket_id: object) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/tickets/{ticket_id}/events")
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


class TestManagingTeams:
    async def test_admin_creates_and_staff_read(self, accounts: Accounts) -> None:
        team = await make_team(
            accounts, "Billing", [str(accounts.agent.user.id), str(accounts.admin.user.id)]
        )

        response = await accounts.agent.client.get(TEAMS)

        assert response.status_code == 200
        [listed] = response.json()
        assert listed["name"] == "Billing"
        assert sorted(m["name"] for m in listed["members"]) == ["Aaron Agent", "Ada Admin"]
        assert all(m["is_away"] is False for m in listed["members"])
        one = await accounts.agent.client.get(f"{TEAMS}/{team['id']}")
        assert one.json() == listed

    async def test_submitters_and_agents_cannot_manage(self, accounts: Accounts) -> None:
        for person in (accounts.alice, accounts.agent):
            response = await person.client.post(TEAMS, json={"name": "Sneaky"})
            assert response.status_code == 403
        assert (await accounts.alice.client.get(TEAMS)).status_code == 403
        assert (await accounts.admin.client.get(TEAMS)).json() == []

    async def test_name_taken(self, accounts: Accounts) -> None:
        await make_team(accounts, "Billing", [])

        response = await accounts.admin.client.post(TEAMS, json={"name": "billing"})

        assert response.status_code == 409
        assert response.json()["field"] == "name"
        assert response.json()["code"] == "team_exists"

    async def test_members_must_be_staff(self, accounts: Accounts) -> None:
        response = await accounts.admin.client.post(
            TEAMS,
            json={"name": "Billing", "member_ids": [str(accounts.alice.user.id)]},
        )

        assert response.status_code == 422
        assert response.json()["field"] == "member_ids"
        assert response.json()["code"] == "not_staff"
        assert (await accounts.admin.client.get(TEAMS)).json() == []

    async def test_rename_and_replace_members(self, accounts: Accounts, conn: Connection) -> None:
        other = await make_user(conn, role="agent", name="Olga Other")
        team = await make_team(accounts, "Billing", [str(accounts.agent.user.id)])

        response = await accounts.admin.client.patch(
            f"{TEAMS}/{team['id']}", json={"name": "Payments", "member_ids": [str(other.id)]}
        )

        assert response.status_code == 200
        assert response.json()["name"] == "Payments"
        assert [m["name"] for m in response.json()["members"]] == ["Olga Other"]

    async def test_unknown_team(self, accounts: Accounts) -> None:
        missing = "00000000-0000-0000-0000-000000000009"
        for method in ("GET", "PATCH", "DELETE"):
            kwargs: dict[str, Any] = {"json": {"name": "X"}} if method == "PATCH" else {}
            response = await accounts.admin.client.request(method, f"{TEAMS}/{missing}", **kwargs)
            assert response.status_code == 404
            assert response.json()["code"] == "team_not_found"


class TestTicketsOfATeam:
    async def test_assign_to_team_and_agent(self, accounts: Accounts, conn: Connection) -> None:
        team = await make_team(accounts, "Billing", [str(accounts.agent.user.id)])
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}/assign",
            json={"assignee_id": str(accounts.agent.user.id), "team_id": team["id"]},
        )

        assert response.status_code == 200
        assert response.json()["team"] == {"id": team["id"], "name": "Billing"}
        assert response.json()["assigned_to"]["name"] == "Aaron Agent"
        assert response.json()["version"] == ticket.version + 1
        kinds = [e["kind"] for e in await _events(accounts.agent.client, ticket.id)]
        assert "team_changed" in kinds
        assert "assigned" in kinds
        [changed] = [
            e
            for e in await _events(accounts.agent.client, ticket.id)
            if e["kind"] == "team_changed"
        ]
        assert changed["data"] == {"from": None, "to": {"id": team["id"], "name": "Billing"}}

    async def test_assign_without_team_keeps_it(self, accounts: Accounts, conn: Connection) -> None:
        team = await make_team(accounts, "Billing", [])
        ticket = await create_ticket(conn, accounts.alice)
        url = f"/api/v1/tickets/{ticket.id}/assign"
        await accounts.agent.client.put(url, json={"assignee_id": None, "team_id": team["id"]})

        response = await accounts.agent.client.put(
            url, json={"assignee_id": str(accounts.agent.user.id)}
        )

        assert response.json()["team"]["name"] == "Billing"
        cleared = await accounts.agent.client.put(url, json={"assignee_id": None, "team_id": None})
        assert cleared.json()["team"] is None
        assert cleared.json()["team_id"] is None

    async def test_team_through_update(self, accounts: Accounts, conn: Connection) -> None:
        team = await make_team(accounts, "Billing", [])
        ticket = await create_ticket(conn, accounts.alice)
        url = f"/api/v1/tickets/{ticket.id}"

        response = await accounts.agent.client.put(url, json={"team_id": team["id"]})

        assert response.status_code == 200
        assert response.json()["team_id"] == team["id"]
        untouched = await accounts.agent.client.put(url, json={"title": "A clearer title here"})
        assert untouched.json()["team_id"] == team["id"]
        cleared = await accounts.agent.client.put(url, json={"team_id": None})
        assert cleared.json()["team_id"] is None

    async def test_unknown_team_is_refused(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        missing = "00000000-0000-0000-0000-000000000009"

        for response in (
            await accounts.agent.client.put(
                f"/api/v1/tickets/{ticket.id}/assign",
                json={"assignee_id": None, "team_id": missing},
            ),
            await accounts.agent.client.put(
                f"/api/v1/tickets/{ticket.id}", json={"team_id": missing, "priority": "high"}
            ),
        ):
            assert response.status_code == 422
            assert response.json()["field"] == "team_id"
            assert response.json()["code"] == "unknown_team"
        after = await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}")
        assert after.json()["priority"] == "medium"
        assert after.json()["version"] == ticket.version

    async def test_submitter_neither_sets_nor_sees_the_team(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        team = await make_team(accounts, "Billing", [])
        ticket = await create_ticket(conn, accounts.alice)

        refused = await accounts.alice.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"team_id": team["id"]}
        )
        await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"team_id": team["id"]}
        )

        assert refused.status_code == 403
        assert refused.json()["field"] == "team_id"
        seen = await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}")
        assert seen.json()["team_id"] is None
        assert seen.json()["team"] is None
        assert "Billing" not in seen.text
        events = await _events(accounts.alice.client, ticket.id)
        assert "team_changed" not in [e["kind"] for e in events]
        listed = await accounts.alice.client.get("/api/v1/tickets")
        assert "Billing" not in listed.text
        assert team["id"] not in listed.text

    async def test_delete_takes_the_team_off_its_tickets(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        team = await make_team(accounts, "Billing", [])
        ticket = await create_ticket(conn, accounts.alice)
        await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"team_id": team["id"]}
        )

        response = await accounts.admin.client.delete(f"{TEAMS}/{team['id']}")

        assert response.status_code == 204
        after = await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}")
        assert after.json()["team_id"] is None
        assert after.json()["version"] == ticket.version + 2
        last = (await _events(accounts.agent.client, ticket.id))[-1]
        assert last["kind"] == "team_changed"
        assert last["data"]["to"] is None

    async def test_a_team_a_rule_names_stays(self, accounts: Accounts) -> None:
        team = await make_team(accounts, "Billing", [])
        await accounts.admin.client.post(
            "/api/v1/assignment-rules",
            json={"name": "Invoices", "actions": {"team_id": team["id"]}},
        )

        response = await accounts.admin.client.delete(f"{TEAMS}/{team['id']}")

        assert response.status_code == 409
        assert response.json()["code"] == "team_in_use"
        assert "Invoices" in response.json()["detail"]
        assert len((await accounts.admin.client.get(TEAMS)).json()) == 1

    async def test_deleted_while_a_rule_naming_it_is_saved(
        self, accounts: Accounts, database_url: str
    ) -> None:
        team_id = UUID((await make_team(accounts, "Billing", []))["id"])
        rule = RuleCreate(name="Invoices", actions=RuleActions(team_id=team_id))
        async with (
            await psycopg.AsyncConnection.connect(database_url, row_factory=dict_row) as saving,
            await psycopg.AsyncConnection.connect(database_url, row_factory=dict_row) as deleting,
        ):
            await routing.create_rule(saving, rule)
            deletion = asyncio.create_task(
                tickets.delete_team(deleting, accounts.admin.actor, team_id)
            )
            await asyncio.sleep(0.3)
            # The deletion waits for the rule being saved, then sees it.
            assert not deletion.done()
            await saving.commit()
            with pytest.raises(Conflict) as refused:
                await deletion
            await deleting.rollback()

        assert refused.value.code == "team_in_use"
        assert len((await accounts.admin.client.get(TEAMS)).json()) == 1


class TestTeamFilter:
    async def test_by_team_mine_and_none(self, accounts: Accounts, conn: Connection) -> None:
        mine = await make_team(accounts, "Billing", [str(accounts.agent.user.id)])
        other = await make_team(accounts, "Hardware", [str(accounts.admin.user.id)])
        billing = await create_ticket(conn, accounts.alice, title="Invoice total is wrong")
        hardware = await create_ticket(conn, accounts.alice, title="Printer jams on page two")
        loose = await create_ticket(conn, accounts.bob, title="Nobody owns this ticket")
        for ticket, team in ((billing, mine), (hardware, other)):
            await accounts.agent.client.put(
                f"/api/v1/tickets/{ticket.id}", json={"team_id": team["id"]}
            )

        async def titles(client: AsyncClient, team: str) -> list[str]:
            response = await client.get("/api/v1/tickets", params={"team": team})
            assert response.status_code == 200, response.text
            return [t["title"] for t in response.json()["items"]]

        assert await titles(accounts.agent.client, "mine") == [billing.title]
        assert await titles(accounts.admin.client, "mine") == [hardware.title]
        assert await titles(accounts.agent.client, other["id"]) == [hardware.title]
        assert await titles(accounts.agent.client, "none") == [loose.title]

    async def test_someone_in_no_team(self, accounts: Accounts, conn: Connection) -> None:
        await make_team(accounts, "Billing", [str(accounts.admin.user.id)])
        await create_ticket(conn, accounts.alice)

        response = await accounts.agent.client.get("/api/v1/tickets", params={"team": "mine"})

        assert response.json()["items"] == []

    async def test_submitters_may_not_filter(self, accounts: Accounts) -> None:
        response = await accounts.alice.client.get("/api/v1/tickets", params={"team": "mine"})

        assert response.status_code == 403
        assert response.json()["field"] == "team"

    async def test_not_a_team(self, accounts: Accounts) -> None:
        response = await accounts.agent.client.get("/api/v1/tickets", params={"team": "sales"})

        assert response.status_code == 422
        assert response.json()["field"] == "team"


class TestAway:
    async def test_agent_marks_themselves_away_and_back(self, accounts: Accounts) -> None:
        client = accounts.agent.client
        assert (await client.get("/api/v1/me/away")).json() == {"away": False}

        response = await client.put("/api/v1/me/away", json={"away": True})

        assert response.status_code == 200
        assert response.json() == {"away": True}
        users = (await accounts.admin.client.get("/api/v1/users", params={"role": "agent"})).json()
        assert [u["is_away"] for u in users["items"]] == [True]
        back = await client.put("/api/v1/me/away", json={"away": False})
        assert back.json() == {"away": False}

    async def test_visible_in_the_team(self, accounts: Accounts) -> None:
        team = await make_team(accounts, "Billing", [str(accounts.agent.user.id)])
        await accounts.agent.client.put("/api/v1/me/away", json={"away": True})

        response = await accounts.agent.client.get(f"{TEAMS}/{team['id']}")

        assert response.json()["members"][0]["is_away"] is True

    async def test_admin_marks_someone_away(self, accounts: Accounts) -> None:
        response = await accounts.admin.client.patch(
            f"/api/v1/users/{accounts.agent.user.id}", json={"is_away": True}
        )

        assert response.status_code == 200
        assert response.json()["is_away"] is True
        assert (await accounts.agent.client.get("/api/v1/me/away")).json() == {"away": True}

    async def test_submitters_are_never_away(self, accounts: Accounts) -> None:
        response = await accounts.alice.client.put("/api/v1/me/away", json={"away": True})

        assert response.status_code == 403
        assert response.json()["code"] == "staff_only"

    async def test_strict_flag(self, accounts: Accounts) -> None:
        response = await accounts.agent.client.put("/api/v1/me/away", json={"away": 1})

        assert response.status_code == 422
        assert response.json()["field"] == "away"


MANY_TICKETS = """
insert into tickets (user_id, type, priority, status, title, description, created_at,
                     updated_at, team_id)
select %(user_id)s, 'bug', 'medium',
       (array['open', 'in_progress', 'waiting', 'resolved', 'closed'])[1 + g %% 5],
       'Ticket number ' || g, 'Steps to reproduce ticket number ' || g,
       now() - make_interval(mins => g), now() - make_interval(mins => g),
       (%(teams)s::uuid[])[1 + g %% 20]
from generate_series(1, %(n)s) g
"""


async def test_team_queues_read_their_index(accounts: Accounts, conn: Connection) -> None:
    """The SQL of "My team" and of one team's queue, planned over enough tickets (twenty
    teams, a few without any) that the planner has a real choice."""
    teams = [await make_team(accounts, f"Team {n}", []) for n in range(20)]
    await accounts.admin.client.patch(
        f"{TEAMS}/{teams[0]['id']}", json={"member_ids": [str(accounts.agent.user.id)]}
    )
    ids = [t["id"] for t in teams[:17]] + [None, None, None]
    await conn.execute(MANY_TICKETS, {"user_id": accounts.alice.user.id, "n": 20_000, "teams": ids})
    await conn.execute("analyze tickets")
    agent = accounts.agent.actor
    open_statuses: list[Any] = ["open", "in_progress", "waiting"]

    for team, my_teams in ((teams[0]["id"], []), ("mine", [teams[0]["id"]])):
        view = TicketFilters(status=open_statuses, team=team)
        first = await listing.list_tickets(
            conn, agent, view, sort="-created", cursor=None, limit=25, reopen_window=WINDOW
        )
        assert len(first.items) == 25
        assert {t.team_id for t in first.items} == {UUID(teams[0]["id"])}
        query, params = listing.listing_query(
            agent, view, sort="-created", cursor=first.next_cursor, limit=25, my_teams=my_teams
        )
        cur = await conn.execute(sql.SQL("explain ") + query, params)
        plan = "\n".join(row["QUERY PLAN"] for row in await cur.fetchall())
        assert "tickets_team_idx" in plan, plan
