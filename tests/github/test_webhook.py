"""POST /integrations/github/webhook with GitHub's own payloads, sent byte for byte."""

import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import pytest
from httpx import AsyncClient

from tests.factories import Accounts, create_ticket
from tests.fakes.github import FIXTURES, FakeGitHub
from tests.github.support import (
    PAYLOAD_ISSUE,
    deliver,
    fixture_bytes,
    fixture_json,
    github_settings,
    link_to_payload_issue,
    outcome,
    sign,
)
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.errors import Unauthorized
from ticketdesk.github import service
from ticketdesk.github.schemas import GitHubLinkRequest
from ticketdesk.github.webhook import read_signed_body
from ticketdesk.tickets.access import get_visible_ticket

VECTOR = json.loads((FIXTURES / "signature-vector.json").read_text())
# The comment every issue_comment payload is about.
PAYLOAD_COMMENT_ID = 492700400


async def signature_matches(secret: bytes, body: bytes, header: str, *, chunk: int) -> bool:
    """Whether the body, arriving ``chunk`` bytes at a time, is taken as signed."""

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), chunk):
            yield body[start : start + chunk]

    try:
        read = await read_signed_body(chunks(), secret, header)
    except Unauthorized:
        return False
    return read == body


@pytest.mark.parametrize("chunk", [1, 5, 1024])
async def test_githubs_published_signature_vector(chunk: int) -> None:
    secret, payload = VECTOR["secret"].encode(), VECTOR["payload"].encode()
    header = VECTOR["x_hub_signature_256"]

    assert await signature_matches(secret, payload, header, chunk=chunk)
    assert not await signature_matches(secret, payload + b" ", header, chunk=chunk)
    assert not await signature_matches(b"another secret", payload, header, chunk=chunk)
    # Without the "sha256=" prefix.
    assert not await signature_matches(secret, payload, VECTOR["signature"], chunk=chunk)


async def ticket_json(client: AsyncClient, ticket_id: object) -> dict[str, Any]:
    response = await client.get(f"/api/v1/tickets/{ticket_id}")
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


async def event_kinds(client: AsyncClient, ticket_id: object) -> list[str]:
    response = await client.get(f"/api/v1/tickets/{ticket_id}/events")
    return [event["kind"] for event in response.json()["items"]]


@pytest.fixture
def settings_overrides(gh: FakeGitHub) -> dict[str, Any]:
    """Issues are linked by hand in these tests, never created."""
    return github_settings(gh, auto_create_issues=False)


class TestVerification:
    async def test_unsigned_or_wrongly_signed(
        self, anon: AsyncClient, conn: Connection, accounts: Accounts, settings: Settings
    ) -> None:
        body = fixture_bytes("issue_comment/created")
        ticket = await link_to_payload_issue(conn, accounts, settings)

        wrong = await deliver(anon, "issue_comment", body, signature=sign(body, "not-the-secret"))
        tampered = await deliver(anon, "issue_comment", body + b"\n", signature=sign(body))
        missing = await deliver(anon, "issue_comment", body, signature="")

        assert [r.status_code for r in (wrong, tampered, missing)] == [401, 401, 401]
        assert wrong.json()["code"] == "bad_signature"
        assert (await ticket_json(accounts.agent.client, ticket.id))["comments"] == []
        cur = await conn.execute("select count(*) as n from github_deliveries")
        assert await cur.fetchone() == {"n": 0}

    async def test_ping_and_its_replay(self, anon: AsyncClient, conn: Connection) -> None:
        body = fixture_bytes("ping")

        first = await deliver(anon, "ping", body, delivery="ping-1")
        again = await deliver(anon, "ping", body, delivery="ping-1")

        assert (outcome(first), outcome(again)) == ("pong", "duplicate")

    async def test_missing_delivery_headers(self, anon: AsyncClient) -> None:
        body = fixture_bytes("ping")
        response = await anon.post(
            "/api/v1/integrations/github/webhook",
            content=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)},
        )

        assert response.status_code == 422
        assert response.json()["code"] == "missing_header"


class TestSecretUnset:
    @pytest.fixture
    def settings_overrides(self, gh: FakeGitHub) -> dict[str, Any]:
        """Deliveries signed with GitHub's published test secret; none configured here."""
        return github_settings(gh, webhook_secret=None)

    async def test_everything_refused(self, anon: AsyncClient) -> None:
        body = fixture_bytes("ping")

        response = await deliver(anon, "ping", body)

        assert response.status_code == 401
        assert response.json()["code"] == "webhook_secret_unset"


class TestIntegrationDisabled:
    @pytest.fixture
    def settings_overrides(self, gh: FakeGitHub) -> dict[str, Any]:
        """The secret set, the integration off."""
        return github_settings(gh, enabled=False, auto_create_issues=False)

    async def test_signed_deliveries_ignored_whatever_they_hold(
        self, anon: AsyncClient, conn: Connection, accounts: Accounts, settings: Settings
    ) -> None:
        # Linked while it was on.
        github = settings.tickets.github.model_copy(update={"enabled": True})
        tickets = settings.tickets.model_copy(update={"github": github})
        was_on = settings.model_copy(update={"tickets": tickets})
        ticket = await link_to_payload_issue(conn, accounts, was_on)
        comment = fixture_bytes("issue_comment/created")

        valid = await deliver(anon, "issue_comment", comment)
        broken = await deliver(anon, "issue_comment", b"[" + comment + b"]")
        unsigned = await deliver(anon, "issue_comment", comment, signature="")

        assert (outcome(valid), outcome(broken)) == ("ignored", "ignored")
        assert unsigned.status_code == 401
        assert (await ticket_json(accounts.agent.client, ticket.id))["comments"] == []
        cur = await conn.execute("select count(*) as n from github_deliveries")
        assert await cur.fetchone() == {"n": 0}


class TestPublishedVectorThroughTheEndpoint:
    @pytest.fixture
    def settings_overrides(self, gh: FakeGitHub) -> dict[str, Any]:
        """The secret of GitHub's published test vector."""
        return github_settings(gh, webhook_secret=VECTOR["secret"])

    async def test_signature_accepted_then_body_judged(self, anon: AsyncClient) -> None:
        # "Hello, World!" is signed correctly, so it gets past the signature to the
        # payload check, which refuses it for not being JSON.
        response = await deliver(
            anon, "ping", VECTOR["payload"].encode(), signature=VECTOR["x_hub_signature_256"]
        )

        assert response.status_code == 422
        assert response.json()["code"] == "bad_payload"


class TestIssueEvents:
    async def test_state_and_title_follow_github(
        self, anon: AsyncClient, conn: Connection, accounts: Accounts, settings: Settings
    ) -> None:
        ticket = await link_to_payload_issue(conn, accounts, settings)
        await service.note_issue_title(conn, ticket.id, "Typo in README")
        agent = accounts.agent.client
        for status in ("in_progress", "resolved"):
            response = await agent.put(f"/api/v1/tickets/{ticket.id}", json={"status": status})
            assert response.status_code == 200

        renamed = await deliver(anon, "issues", fixture_bytes("issues/edited"))
        reopened = await deliver(anon, "issues", fixture_bytes("issues/reopened"))
        after_reopen = await ticket_json(agent, ticket.id)
        closed_payload = fixture_json("issues/reopened")
        closed_payload["action"] = "closed"
        closed_payload["issue"].update(
            state="closed", state_reason="completed", closed_at="2019-05-15T15:30:00Z"
        )
        closed = await deliver(anon, "issues", closed_payload)
        after_close = await ticket_json(agent, ticket.id)
        renamed_again = await deliver(anon, "issues", fixture_bytes("issues/edited"))

        assert (outcome(renamed), outcome(reopened), outcome(closed)) == (
            "applied",
            "applied",
            "applied",
        )
        assert outcome(renamed_again) == "ignored"  # the title did not change this time
        assert after_reopen["status"] == "open"
        assert after_close["status"] == "resolved"
        staff_timeline = await event_kinds(agent, ticket.id)
        submitter_timeline = await event_kinds(accounts.alice.client, ticket.id)
        assert "github_issue_renamed" in staff_timeline
        assert "github_issue_renamed" not in submitter_timeline
        assert staff_timeline.count("status_changed") == 4
        cur = await conn.execute(
            "select count(*) as n from procrastinate_jobs where args->>'ticket_id' = %s",
            (str(ticket.id),),
        )
        row = await cur.fetchone()
        # The link and the two agent changes queued syncs; GitHub's own changes did not.
        assert row == {"n": 3}

    async def test_not_planned_closes(
        self, anon: AsyncClient, conn: Connection, accounts: Accounts, settings: Settings
    ) -> None:
        ticket = await link_to_payload_issue(conn, accounts, settings)
        payload = fixture_json("issues/reopened")
        payload["action"] = "closed"
        payload["issue"].update(state="closed", state_reason="not_planned")

        response = await deliver(anon, "issues", payload)

        assert outcome(response) == "applied"
        assert (await ticket_json(accounts.agent.client, ticket.id))["status"] == "closed"

    async def test_other_events_and_issues_ignored(
        self, anon: AsyncClient, conn: Connection, accounts: Accounts, settings: Settings
    ) -> None:
        unlinked = await deliver(anon, "issue_comment", fixture_bytes("issue_comment/created"))
        ticket = await link_to_payload_issue(conn, accounts, settings)
        other_repo = fixture_json("issue_comment/created")
        other_repo["repository"]["full_name"] = "someone-else/Hello-World"
        elsewhere = await deliver(anon, "issue_comment", other_repo)
        outcomes = [
            outcome(await deliver(anon, "issues", fixture_bytes(f"issues/{name}")))
            for name in ("opened", "labeled", "assigned", "deleted")
        ]

        assert outcome(unlinked) == "ignored"
        assert outcome(elsewhere) == "ignored"
        assert outcomes == ["ignored"] * 4
        assert (await ticket_json(accounts.agent.client, ticket.id))["comments"] == []

    async def test_opened_issue_attaches_to_the_ticket_waiting_for_it(
        self, anon: AsyncClient, conn: Connection, accounts: Accounts, settings: Settings
    ) -> None:
        # The sync job's create request reached GitHub but its answer was lost; GitHub's
        # "opened" delivery, carrying the hidden block, is what tells the ticket its issue.
        ticket = await create_ticket(conn, accounts.alice)
        async with conn.transaction():
            locked = await get_visible_ticket(conn, accounts.agent.actor, str(ticket.id))
            await service.request_link(
                conn,
                settings.tickets.github,
                accounts.agent.actor,
                locked,
                GitHubLinkRequest(create=True),
            )
        url = f"https://desk.example.com/tickets/{ticket.number}"
        opened = fixture_json("issues/opened")
        opened["issue"]["body"] = f"{ticket.description}\n\n{service.issue_marker(ticket, url)}\n"
        other = await create_ticket(conn, accounts.alice)

        attached = await deliver(anon, "issues", opened)
        again = await deliver(anon, "issues", opened)
        opened["issue"]["body"] = service.issue_marker(other, url)
        unlinked = await deliver(anon, "issues", opened)
        seen_by_agent = await ticket_json(accounts.agent.client, ticket.id)

        assert [outcome(r) for r in (attached, again, unlinked)] == [
            "applied",
            "ignored",
            "ignored",
        ]
        assert seen_by_agent["github_issue_number"] == PAYLOAD_ISSUE
        assert seen_by_agent["github"]["issue_url"] == opened["issue"]["html_url"]
        assert (await ticket_json(accounts.agent.client, other.id))["github"] is None
        # The issue's number is staff business on the timeline too.
        assert await event_kinds(accounts.agent.client, ticket.id) == [
            "created",
            "github_link_requested",
            "github_issue_number_changed",
        ]
        assert await event_kinds(accounts.alice.client, ticket.id) == ["created"]


class TestCommentEvents:
    async def test_created_edited_deleted(
        self, anon: AsyncClient, conn: Connection, accounts: Accounts, settings: Settings
    ) -> None:
        ticket = await link_to_payload_issue(conn, accounts, settings)
        created = fixture_bytes("issue_comment/created")

        first = await deliver(anon, "issue_comment", created, delivery="d-1")
        replay = await deliver(anon, "issue_comment", created, delivery="d-1")
        redelivered = await deliver(anon, "issue_comment", created, delivery="d-2")
        seen_by_alice = await ticket_json(accounts.alice.client, ticket.id)
        edited = await deliver(anon, "issue_comment", fixture_bytes("issue_comment/edited"))
        after_edit = await ticket_json(accounts.alice.client, ticket.id)
        deleted = await deliver(anon, "issue_comment", fixture_bytes("issue_comment/deleted"))
        after_delete = await ticket_json(accounts.alice.client, ticket.id)

        assert [outcome(r) for r in (first, replay, redelivered, edited, deleted)] == [
            "applied",
            "duplicate",
            "ignored",
            "applied",
            "applied",
        ]
        [comment] = seen_by_alice["comments"]
        assert comment["body"] == "You are totally right! I'll get this fixed right away."
        assert (comment["source"], comment["github_login"]) == ("github", "Codertocat")
        assert comment["author"]["name"] == "GitHub"
        assert comment["is_internal"] is False
        assert [c["body"] for c in after_edit["comments"]] == [
            "You are totally right! I'll get this fixed today."
        ]
        assert after_delete["comments"] == []

    async def test_comment_without_its_author_is_shown_as_from_the_sender(
        self, anon: AsyncClient, conn: Connection, accounts: Accounts, settings: Settings
    ) -> None:
        # GitHub sends "user": null for a comment whose author it no longer knows.
        ticket = await link_to_payload_issue(conn, accounts, settings)
        payload = fixture_json("issue_comment/created")
        payload["comment"]["user"] = None
        payload["sender"]["login"] = "octo-maintainer"

        applied = await deliver(anon, "issue_comment", payload)

        assert outcome(applied) == "applied"
        [comment] = (await ticket_json(accounts.alice.client, ticket.id))["comments"]
        assert comment["body"] == "You are totally right! I'll get this fixed right away."
        assert comment["github_login"] == "octo-maintainer"

    async def test_own_comments_come_back_without_duplicates(
        self, anon: AsyncClient, conn: Connection, accounts: Accounts, settings: Settings
    ) -> None:
        ticket = await link_to_payload_issue(conn, accounts, settings)
        reply = await accounts.agent.client.post(
            f"/api/v1/tickets/{ticket.id}/comments", json={"comment": "Fixed in 2.5."}
        )
        comment_id = UUID(reply.json()["id"])
        # The sync job posted it as GitHub comment 7001; GitHub's webhook comes back before
        # the job has recorded that id, then again (redelivered) after.
        await service.start_comment_mirror(conn, comment_id)
        echo = fixture_json("issue_comment/created")
        echo["comment"].update(
            id=7001, body=f"Fixed in 2.5.\n\n{service.comment_marker(comment_id)}\n"
        )
        plain = fixture_json("issue_comment/created")
        plain["comment"]["id"] = 7001

        echoed = await deliver(anon, "issue_comment", echo)
        mirrors = await service.comment_mirrors(conn, [comment_id])
        echoed_again = await deliver(anon, "issue_comment", plain)
        comments = (await ticket_json(accounts.agent.client, ticket.id))["comments"]

        assert (outcome(echoed), outcome(echoed_again)) == ("ignored", "ignored")
        assert mirrors[comment_id].github_comment_id == 7001
        assert [c["body"] for c in comments] == ["Fixed in 2.5."]
