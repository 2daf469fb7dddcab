"""Merging a duplicate into a main ticket through the API, with files, GitHub links (the
fake GitHub), webhooks and followers; refusals; and undoing it."""

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import Accounts, Person, create_ticket
from tests.fakes.github import FakeGitHub
from tests.github.support import (
    PAYLOAD_REPO,
    deliver,
    fixture_bytes,
    fixture_json,
    github_settings,
    link_to_payload_issue,
    outcome,
)
from tests.github.test_sync import run_sync
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.ticket_detail import TicketDetail

OWNER, REPO = PAYLOAD_REPO.split("/")
NOTE = "Internal: this customer is on the enterprise plan, escalate quietly."


@pytest.fixture
def settings_overrides(gh: FakeGitHub) -> dict[str, Any]:
    """GitHub on (every ticket gets an issue), webhooks may point anywhere."""
    return {**github_settings(gh), "webhooks": {"allow_private_targets": True}}


async def _get(person: Person, path: str) -> dict[str, Any]:
    response = await person.client.get(path)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _comment(
    person: Person, ticket: TicketDetail, text: str, *, internal: bool = False
) -> None:
    response = await person.client.post(
        f"/api/v1/tickets/{ticket.id}/comments", json={"comment": text, "is_internal": internal}
    )
    assert response.status_code == 201, response.text


async def _upload(person: Person, ticket: TicketDetail, name: str, content: bytes) -> str:
    response = await person.client.post(
        f"/api/v1/tickets/{ticket.id}/attachments", files={"files": (name, content, "text/plain")}
    )
    assert response.status_code == 201, response.text
    attachment_id: str = response.json()[0]["id"]
    return attachment_id


async def _pair(conn: Connection, accounts: Accounts) -> tuple[TicketDetail, TicketDetail]:
    main = await create_ticket(conn, accounts.alice, title="Export to CSV fails with a 500")
    duplicate = await create_ticket(conn, accounts.bob, title="CSV export gives an error page")
    return main, duplicate


async def _merge(person: Person, duplicate: TicketDetail, into: str) -> Any:
    return await person.client.post(f"/api/v1/tickets/{duplicate.id}/merge", json={"into": into})


class TestMerge:
    async def test_a_duplicate_with_files_and_a_github_issue_merges_into_the_main_ticket(
        self, app: FastAPI, accounts: Accounts, conn: Connection, gh: FakeGitHub
    ) -> None:
        main, duplicate = await _pair(conn, accounts)
        await run_sync(app, main.id)
        await run_sync(app, duplicate.id)
        main_issue = gh.issue(OWNER, REPO, 1)["number"]
        dup_issue = gh.issue(OWNER, REPO, 2)["number"]
        await _comment(accounts.bob, duplicate, "Happens with every report I export.")
        await _comment(accounts.agent, duplicate, NOTE, internal=True)
        file_id = await _upload(accounts.bob, duplicate, "har.txt", b"GET /export 500\n")
        webhook = await accounts.admin.client.post(
            "/api/v1/webhooks",
            json={"name": "Chat", "url": "https://93.184.215.14/hook", "events": ["ticket.merged"]},
        )
        assert webhook.status_code == 201, webhook.text
        await run_sync(app, duplicate.id)
        mirrored_before = len(gh.comments(OWNER, REPO, dup_issue))

        response = await _merge(accounts.agent, duplicate, str(main.number))
        await run_sync(app, duplicate.id)
        await run_sync(app, main.id)

        assert response.status_code == 201, response.text
        merge = response.json()
        assert merge["main"]["number"] == main.number
        assert merge["duplicate"]["number"] == duplicate.number
        assert (merge["comments_moved"], merge["attachments_moved"]) == (2, 1)
        assert merge["undo_until"] is not None

        # One timeline: the duplicate's replies, notes and files are on the main ticket.
        staff_main = await _get(accounts.agent, f"/api/v1/tickets/{main.id}")
        bodies = [c["body"] for c in staff_main["comments"]]
        assert "Happens with every report I export." in bodies
        assert NOTE in bodies
        assert [a["id"] for a in staff_main["attachments"]] == [file_id]
        download = await accounts.agent.client.get(
            f"/api/v1/tickets/{main.id}/attachments/{file_id}/download"
        )
        assert download.content == b"GET /export 500\n"
        assert [d["number"] for d in staff_main["duplicates"]] == [duplicate.number]
        followers = {(f["user"] or {}).get("id"): f["via"] for f in staff_main["followers"]}
        assert followers == {str(accounts.bob.user.id): "merge"}
        main_events = await _get(accounts.agent, f"/api/v1/tickets/{main.id}/events")
        [merged_event] = [e for e in main_events["items"] if e["kind"] == "merged"]
        assert merged_event["data"]["duplicate"]["number"] == duplicate.number

        # The duplicate: closed, pointing to the main ticket, on its own timeline too.
        staff_dup = await _get(accounts.agent, f"/api/v1/tickets/{duplicate.id}")
        assert staff_dup["status"] == "closed"
        assert staff_dup["merged_into"]["number"] == main.number
        assert staff_dup["merge"]["id"] == merge["id"]
        assert [a["id"] for a in staff_dup["attachments"]] == []
        [pointer] = staff_dup["comments"]
        assert f"merged into #{main.number}" in pointer["body"]
        dup_events = await _get(accounts.agent, f"/api/v1/tickets/{duplicate.id}/events")
        kinds = [e["kind"] for e in dup_events["items"]]
        assert "merged" in kinds
        assert "status_changed" in kinds

        # Its submitter still opens it, sees the pointer, and reads the main ticket's
        # public side (not its notes), where they may reply.
        bob_dup = await _get(accounts.bob, f"/api/v1/tickets/{duplicate.id}")
        assert bob_dup["merged_into"]["number"] == main.number
        assert bob_dup["merge"] is None
        assert bob_dup["reply_refusal"]["code"] == "ticket_merged"
        assert bob_dup["transitions"] == []
        bob_main = await _get(accounts.bob, f"/api/v1/tickets/{main.id}")
        assert NOTE not in str(bob_main)
        assert bob_main["following"] is True
        assert bob_main["followers"] is None
        bob_main_events = await accounts.bob.client.get(f"/api/v1/tickets/{main.id}/events")
        assert NOTE not in bob_main_events.text
        refused = await accounts.bob.client.post(
            f"/api/v1/tickets/{duplicate.id}/comments", json={"comment": "Any news?"}
        )
        assert refused.status_code == 409
        assert refused.json()["code"] == "ticket_merged"
        late_file = await accounts.bob.client.post(
            f"/api/v1/tickets/{duplicate.id}/attachments",
            files={"files": ("late.txt", b"one more\n", "text/plain")},
        )
        assert late_file.status_code == 409
        assert (late_file.json()["code"], late_file.json()["field"]) == ("ticket_merged", "files")
        # The main ticket's submitter never gets into the duplicate.
        alice_dup = await accounts.alice.client.get(f"/api/v1/tickets/{duplicate.id}")
        assert alice_dup.status_code == 404

        # GitHub: the duplicate's issue is told where it went and closed; the main's is kept.
        dup_comments = gh.comments(OWNER, REPO, dup_issue)
        assert len(dup_comments) == mirrored_before + 1
        assert f"merged into #{main.number}" in dup_comments[-1]["body"]
        assert gh.issue(OWNER, REPO, dup_issue)["state"] == "closed"
        assert gh.issue(OWNER, REPO, main_issue)["state"] == "open"
        assert staff_main["github"]["issue_number"] == main_issue
        assert NOTE not in str(gh.requests)

        # Webhooks hear ticket.merged once, naming both tickets.
        cur = await conn.execute(
            "select event, payload from webhook_deliveries where event = 'ticket.merged'"
        )
        [delivery] = await cur.fetchall()
        data = delivery["payload"]["data"]
        assert data["ticket"]["number"] == duplicate.number
        assert data["merge"]["main"]["number"] == main.number
        assert data["merge"]["comments_moved"] == 2

    async def test_only_staff_merge(self, accounts: Accounts, conn: Connection) -> None:
        main, duplicate = await _pair(conn, accounts)

        response = await _merge(accounts.bob, duplicate, str(main.number))

        assert response.status_code == 403
        assert (await _get(accounts.agent, f"/api/v1/tickets/{duplicate.id}"))["status"] == "open"


class TestRefusals:
    async def test_into_itself(self, accounts: Accounts, conn: Connection) -> None:
        _, duplicate = await _pair(conn, accounts)

        response = await _merge(accounts.agent, duplicate, str(duplicate.number))

        assert response.status_code == 422
        assert (response.json()["code"], response.json()["field"]) == ("merge_into_itself", "into")

    async def test_into_a_missing_ticket(self, accounts: Accounts, conn: Connection) -> None:
        _, duplicate = await _pair(conn, accounts)

        response = await _merge(accounts.agent, duplicate, "424242")

        assert response.status_code == 422
        assert response.json()["field"] == "into"

    async def test_into_a_merged_ticket_and_circular(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        main, duplicate = await _pair(conn, accounts)
        third = await create_ticket(conn, accounts.alice, title="Reports export is broken")
        await _comment(accounts.alice, third, "Still broken for me.")
        first = await _merge(accounts.agent, duplicate, str(main.id))
        assert first.status_code == 201

        into_merged = await _merge(accounts.agent, third, str(duplicate.number))
        circular = await _merge(accounts.agent, main, str(duplicate.number))
        twice = await _merge(accounts.agent, duplicate, str(third.number))

        for response in (into_merged, circular):
            assert response.status_code == 422
            assert (response.json()["code"], response.json()["field"]) == (
                "merge_target_merged",
                "into",
            )
        assert twice.status_code == 422
        assert (twice.json()["code"], twice.json()["field"]) == ("already_merged", "id")
        # Nothing moved half-way.
        third_now = await _get(accounts.agent, f"/api/v1/tickets/{third.id}")
        assert [c["body"] for c in third_now["comments"]] == ["Still broken for me."]
        assert third_now["status"] == "open"
        assert third_now["merged_into_id"] is None


class TestUndo:
    async def test_undo_restores_exactly_what_moved(
        self, app: FastAPI, accounts: Accounts, conn: Connection, gh: FakeGitHub
    ) -> None:
        main, duplicate = await _pair(conn, accounts)
        await run_sync(app, duplicate.id)
        await _comment(accounts.agent, main, "First answer on the main ticket.")
        await _comment(accounts.bob, duplicate, "My own details.")
        file_id = await _upload(accounts.bob, duplicate, "steps.txt", b"1. export\n")
        await _merge(accounts.agent, duplicate, str(main.id))
        await run_sync(app, duplicate.id)
        assert gh.issue(OWNER, REPO, 1)["state"] == "closed"
        await _comment(accounts.agent, main, "Written after the merge.")

        response = await accounts.agent.client.delete(f"/api/v1/tickets/{duplicate.id}/merge")
        await run_sync(app, duplicate.id)

        assert response.status_code == 200, response.text
        assert response.json()["undone_at"] is not None
        assert response.json()["undo_until"] is None
        dup = await _get(accounts.agent, f"/api/v1/tickets/{duplicate.id}")
        main_now = await _get(accounts.agent, f"/api/v1/tickets/{main.id}")
        assert dup["status"] == "open"
        assert dup["closed_at"] is None
        # Bob's reply still waits for an answer, as before the merge's pointer reply.
        assert dup["customer_replied_at"] is not None
        assert dup["merged_into"] is None
        assert [c["body"] for c in dup["comments"]] == ["My own details."]
        assert [a["id"] for a in dup["attachments"]] == [file_id]
        assert [c["body"] for c in main_now["comments"]] == [
            "First answer on the main ticket.",
            "Written after the merge.",
        ]
        assert main_now["attachments"] == []
        assert main_now["followers"] == []
        assert main_now["duplicates"] == []
        assert "unmerged" in [
            e["kind"]
            for e in (await _get(accounts.agent, f"/api/v1/tickets/{main.id}/events"))["items"]
        ]
        assert gh.issue(OWNER, REPO, 1)["state"] == "open"
        again = await accounts.agent.client.delete(f"/api/v1/tickets/{duplicate.id}/merge")
        assert again.status_code == 409
        assert (again.json()["code"], again.json()["field"]) == ("not_merged", "id")

    async def test_undo_after_the_window_is_refused(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        main, duplicate = await _pair(conn, accounts)
        await _merge(accounts.agent, duplicate, str(main.id))
        async with conn.transaction():
            await conn.execute(
                "update ticket_merges set merged_at = now() - interval '11 minutes'"
                " where duplicate_id = %s",
                (duplicate.id,),
            )

        detail = await _get(accounts.agent, f"/api/v1/tickets/{duplicate.id}")
        response = await accounts.agent.client.delete(f"/api/v1/tickets/{duplicate.id}/merge")

        assert detail["merge"]["undo_until"] is None
        assert response.status_code == 409
        assert (response.json()["code"], response.json()["field"]) == ("merge_undo_expired", "id")
        assert (await _get(accounts.agent, f"/api/v1/tickets/{duplicate.id}"))["status"] == "closed"

    async def test_undo_is_refused_once_the_main_ticket_moved_on(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        main, duplicate = await _pair(conn, accounts)
        third = await create_ticket(conn, accounts.alice, title="Reports export is broken")
        await _merge(accounts.agent, duplicate, str(main.id))
        await _merge(accounts.agent, main, str(third.id))

        response = await accounts.agent.client.delete(f"/api/v1/tickets/{duplicate.id}/merge")

        assert response.status_code == 409
        assert (response.json()["code"], response.json()["field"]) == (
            "merge_undo_impossible",
            "id",
        )

    async def test_the_duplicates_submitter_keeps_no_trace_of_a_ticket_they_no_longer_read(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        main, duplicate = await _pair(conn, accounts)
        await _merge(accounts.agent, duplicate, str(main.id))
        following = await _get(accounts.bob, f"/api/v1/tickets/{duplicate.id}")
        unfollowed = await accounts.bob.client.delete(f"/api/v1/tickets/{main.id}/follow")
        after_unfollowing = await _get(accounts.bob, f"/api/v1/tickets/{duplicate.id}")
        undone = await accounts.agent.client.delete(f"/api/v1/tickets/{duplicate.id}/merge")
        events = await _get(accounts.bob, f"/api/v1/tickets/{duplicate.id}/events")

        assert following["merged_into"]["title"] == main.title
        assert unfollowed.status_code == 200
        assert after_unfollowing["merged_into"] is None
        assert after_unfollowing["reply_refusal"]["code"] == "ticket_merged"
        assert undone.status_code == 200, undone.text
        merge_events = [e for e in events["items"] if e["kind"] in ("merged", "unmerged")]
        assert [e["kind"] for e in merge_events] == ["merged", "unmerged"]
        assert [e["data"]["main"]["number"] for e in merge_events] == [main.number] * 2
        assert main.title not in str(events)


class TestGitHubAfterTheMerge:
    @pytest.fixture
    def settings_overrides(self, gh: FakeGitHub) -> dict[str, Any]:
        """Issues linked by hand, as the webhook payloads' issue."""
        return github_settings(gh, auto_create_issues=False)

    async def test_the_duplicates_issue_speaks_to_the_main_ticket_and_stays_closed(
        self, accounts: Accounts, anon: AsyncClient, conn: Connection, settings: Settings
    ) -> None:
        duplicate = await link_to_payload_issue(conn, accounts, settings)
        main = await create_ticket(conn, accounts.bob, title="The main ticket of the two")
        merged = await _merge(accounts.agent, duplicate, str(main.number))
        assert merged.status_code == 201

        commented = await deliver(anon, "issue_comment", fixture_bytes("issue_comment/created"))
        reopened = await deliver(anon, "issues", fixture_bytes("issues/reopened"))

        assert outcome(commented) == "applied"
        assert outcome(reopened) == "ignored"
        comment = fixture_json("issue_comment/created")["comment"]["body"]
        main_now = await _get(accounts.agent, f"/api/v1/tickets/{main.id}")
        dup_now = await _get(accounts.agent, f"/api/v1/tickets/{duplicate.id}")
        assert comment in [c["body"] for c in main_now["comments"]]
        assert comment not in [c["body"] for c in dup_now["comments"]]
        assert dup_now["status"] == "closed"
