"""POST /tickets/{id}/github, and the sync state on a ticket."""

from typing import Any

import pytest
from httpx import AsyncClient

from tests.factories import Accounts, create_ticket
from tests.fakes.github import FakeGitHub
from tests.github.support import github_settings
from ticketdesk.db import Connection
from ticketdesk.github import service


async def queued_syncs(conn: Connection, ticket_id: object) -> int:
    cur = await conn.execute(
        "select count(*) as n from procrastinate_jobs"
        " where task_name = 'github.sync_ticket' and args->>'ticket_id' = %s and status = 'todo'",
        (str(ticket_id),),
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row["n"])


@pytest.fixture
def settings_overrides(gh: FakeGitHub) -> dict[str, Any]:
    """Issues only on request."""
    return github_settings(gh, auto_create_issues=False)


class TestLinkGitHubIssue:
    async def test_not_staff(self, anon: AsyncClient, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        url = f"/api/v1/tickets/{ticket.id}/github"

        anonymous = await anon.post(url, json={"create": True})
        submitter = await accounts.alice.client.post(url, json={"create": True})

        assert (anonymous.status_code, submitter.status_code) == (401, 403)
        assert await queued_syncs(conn, ticket.id) == 0

    async def test_bad_body(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        url = f"/api/v1/tickets/{ticket.id}/github"

        responses = [
            await accounts.agent.client.post(url, json=body)
            for body in ({}, {"create": True, "issue_number": 3}, {"issue_number": 0})
        ]

        assert [r.status_code for r in responses] == [422, 422, 422]

    async def test_link_existing(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        other = await create_ticket(conn, accounts.bob)
        agent = accounts.agent.client
        url = f"/api/v1/tickets/{ticket.id}/github"

        linked = await agent.post(url, json={"issue_number": 7})
        again = await agent.post(url, json={"issue_number": 7})
        corrected = await agent.post(url, json={"issue_number": 8})  # before GitHub confirmed 7
        await service.store_issue(
            conn,
            ticket.id,
            number=8,
            url="https://github.com/Codertocat/Hello-World/issues/8",
            title="Exports",
            pushed_title="Exports",
            pushed_open=True,
        )
        different = await agent.post(url, json={"issue_number": 9})
        create = await agent.post(url, json={"create": True})
        taken = await agent.post(f"/api/v1/tickets/{other.id}/github", json={"issue_number": 8})
        staff_view = (await agent.get(f"/api/v1/tickets/{ticket.id}")).json()
        submitter_view = (await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}")).json()
        staff_timeline = await agent.get(f"/api/v1/tickets/{ticket.id}/events")
        submitter_timeline = await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}/events")

        assert (linked.status_code, again.status_code, corrected.status_code) == (202, 202, 202)
        assert linked.json() == {
            "repo": "Codertocat/Hello-World",
            "issue_number": 7,
            "issue_url": None,
            "state": "pending",
            "last_synced_at": None,
            "last_error": None,
        }
        assert corrected.json()["issue_number"] == 8
        assert (different.status_code, different.json()["code"]) == (409, "github_already_linked")
        assert (create.status_code, create.json()["code"]) == (409, "github_already_linked")
        assert (taken.status_code, taken.json()["code"]) == (409, "github_issue_taken")
        assert staff_view["github"]["issue_url"].endswith("/issues/8")
        assert submitter_view["github"] is None
        assert await queued_syncs(conn, ticket.id) == 2
        # The link is staff business on the timeline too: the submitter never hears of it.
        assert [e["data"] for e in staff_timeline.json()["items"][1:]] == [
            {"issue_number": 7},
            {"issue_number": 8},
        ]
        assert [e["kind"] for e in submitter_timeline.json()["items"]] == ["created"]

    async def test_create(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.agent.client.post(
            f"/api/v1/tickets/{ticket.id}/github", json={"create": True}
        )
        timeline = await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}/events")

        assert response.status_code == 202
        assert (response.json()["issue_number"], response.json()["state"]) == (None, "pending")
        assert await queued_syncs(conn, ticket.id) == 1
        assert "github_link_requested" in [e["kind"] for e in timeline.json()["items"]]


class TestIntegrationOff:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        """No GitHub settings at all."""
        return {}

    async def test_refused(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.agent.client.post(
            f"/api/v1/tickets/{ticket.id}/github", json={"create": True}
        )

        assert (response.status_code, response.json()["code"]) == (409, "github_disabled")
        assert await queued_syncs(conn, ticket.id) == 0
