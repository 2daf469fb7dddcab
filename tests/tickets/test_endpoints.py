"""The seed's ticket routes: create, read, update, close, assign."""

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient, Response

from tests.factories import Accounts, create_ticket, ticket_body
from ticketdesk.db import Connection


async def _count(conn: Connection, table: str = "tickets") -> int:
    cur = await conn.execute(f"select count(*) as n from {table}")  # noqa: S608 (fixed names)
    row = await cur.fetchone()
    assert row is not None
    return int(row["n"])


async def _event_kinds(client: AsyncClient, ticket_id: object) -> list[str]:
    response = await client.get(f"/api/v1/tickets/{ticket_id}/events")
    assert response.status_code == 200
    return [event["kind"] for event in response.json()["items"]]


async def _move(client: AsyncClient, ticket_id: object, *statuses: str) -> Response:
    """Walk a ticket through ``statuses`` one PUT at a time; return the last response."""
    response = None
    for status in statuses:
        response = await client.put(f"/api/v1/tickets/{ticket_id}", json={"status": status})
        assert response.status_code == 200, response.text
    assert response is not None
    return response


async def _label(accounts: Accounts, name: str) -> None:
    response = await accounts.admin.client.post("/api/v1/labels", json={"name": name})
    assert response.status_code == 201


class TestCreateTicket:
    async def test_anonymous(self, anon: AsyncClient, conn: Connection) -> None:
        response = await anon.post("/api/v1/tickets", json=ticket_body())

        assert response.status_code == 401
        assert await _count(conn) == 0

    async def test_valid(self, accounts: Accounts) -> None:
        response = await accounts.alice.client.post(
            "/api/v1/tickets",
            json=ticket_body(priority="high", metadata={"os": "Linux", "app": "2.4.1"}),
        )

        assert response.status_code == 201
        ticket = response.json()
        assert response.headers["Location"] == f"/api/v1/tickets/{ticket['id']}"
        assert response.headers["ETag"] == '"1"'
        assert ticket["status"] == "open"
        assert ticket["priority"] == "high"
        assert ticket["number"] >= 1
        assert ticket["user_id"] == str(accounts.alice.user.id)
        assert ticket["submitter"]["name"] == "Alice Submitter"
        assert ticket["assigned_to"] is None
        assert ticket["metadata"] == {"os": "Linux", "app": "2.4.1"}
        assert ticket["tags"] == []
        assert ticket["comments"] == []
        assert ticket["attachments"] == []
        assert ticket["version"] == 1
        assert ticket["id"][14] == "7"  # a UUIDv7

    async def test_numbers_are_sequential(self, accounts: Accounts) -> None:
        first = await accounts.alice.client.post("/api/v1/tickets", json=ticket_body())
        second = await accounts.bob.client.post("/api/v1/tickets", json=ticket_body())

        assert second.json()["number"] == first.json()["number"] + 1
        assert second.json()["id"] > first.json()["id"]

    async def test_priority_defaults_to_medium(self, accounts: Accounts) -> None:
        body = ticket_body()
        del body["priority"]

        response = await accounts.alice.client.post("/api/v1/tickets", json=body)

        assert response.json()["priority"] == "medium"

    async def test_title_is_trimmed(self, accounts: Accounts) -> None:
        response = await accounts.alice.client.post(
            "/api/v1/tickets", json=ticket_body(title="   Ten chars!   ")
        )

        assert response.status_code == 201
        assert response.json()["title"] == "Ten chars!"

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"title": "Too short"}, "title"),
            ({"title": "   Too short        "}, "title"),
            ({"title": "x" * 201}, "title"),
            ({"title": "Nul \x00 in the title"}, "title"),
            ({"description": "Nineteen characters"}, "description"),
            ({"description": "A description with a \x00 NUL in it"}, "description"),
            ({"type": "question"}, "type"),
            ({"priority": "urgent"}, "priority"),
            ({"metadata": ["not", "an", "object"]}, "metadata"),
            ({"metadata": {"os": "Linux\x00"}}, "metadata"),
            ({"metadata": {"blob": "x" * 17_000}}, "metadata"),
        ],
        ids=lambda value: str(value)[:30] if isinstance(value, dict) else value,
    )
    async def test_invalid(
        self, accounts: Accounts, conn: Connection, overrides: dict[str, Any], field: str
    ) -> None:
        response = await accounts.alice.client.post(
            "/api/v1/tickets", json=ticket_body(**overrides)
        )

        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["field"] == field
        assert await _count(conn) == 0

    async def test_missing_fields(self, accounts: Accounts) -> None:
        response = await accounts.alice.client.post("/api/v1/tickets", json={})

        assert response.status_code == 422
        assert {e["field"] for e in response.json()["errors"]} == {
            "type",
            "title",
            "description",
        }

    async def test_submitter_may_not_set_tags(self, accounts: Accounts, conn: Connection) -> None:
        await _label(accounts, "billing")

        response = await accounts.alice.client.post(
            "/api/v1/tickets", json=ticket_body(tags=["billing"])
        )

        assert response.status_code == 403
        assert response.json()["field"] == "tags"
        assert await _count(conn) == 0

    async def test_staff_set_tags_by_label_name(self, accounts: Accounts) -> None:
        await _label(accounts, "Billing")
        await _label(accounts, "ui")

        response = await accounts.agent.client.post(
            "/api/v1/tickets", json=ticket_body(tags=["billing", "UI", "Billing"])
        )

        assert response.status_code == 201
        assert response.json()["tags"] == ["Billing", "ui"]

    async def test_unknown_label(self, accounts: Accounts, conn: Connection) -> None:
        response = await accounts.agent.client.post(
            "/api/v1/tickets", json=ticket_body(tags=["no-such-label"])
        )

        assert response.status_code == 422
        assert response.json()["field"] == "tags"
        assert response.json()["code"] == "unknown_label"
        assert await _count(conn) == 0

    async def test_records_an_event(self, accounts: Accounts) -> None:
        response = await accounts.alice.client.post("/api/v1/tickets", json=ticket_body())

        assert await _event_kinds(accounts.alice.client, response.json()["id"]) == ["created"]


class TestIdempotencyKey:
    async def test_same_key_and_body_returns_the_same_ticket(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        headers = {"Idempotency-Key": "retry-1"}

        first = await accounts.alice.client.post(
            "/api/v1/tickets", json=ticket_body(), headers=headers
        )
        second = await accounts.alice.client.post(
            "/api/v1/tickets", json=ticket_body(), headers=headers
        )

        assert first.status_code == second.status_code == 201
        assert "Idempotent-Replayed" not in first.headers
        assert second.headers["Idempotent-Replayed"] == "true"
        assert second.json()["id"] == first.json()["id"]
        assert await _count(conn) == 1
        assert await _count(conn, "ticket_events") == 1

    async def test_same_key_other_body(self, accounts: Accounts, conn: Connection) -> None:
        headers = {"Idempotency-Key": "retry-1"}
        await accounts.alice.client.post("/api/v1/tickets", json=ticket_body(), headers=headers)

        response = await accounts.alice.client.post(
            "/api/v1/tickets", json=ticket_body(title="Another title entirely"), headers=headers
        )

        assert response.status_code == 409
        assert response.json()["code"] == "idempotency_key_reused"
        assert await _count(conn) == 1

    async def test_keys_belong_to_their_user(self, accounts: Accounts, conn: Connection) -> None:
        headers = {"Idempotency-Key": "retry-1"}

        alices = await accounts.alice.client.post(
            "/api/v1/tickets", json=ticket_body(), headers=headers
        )
        bobs = await accounts.bob.client.post(
            "/api/v1/tickets", json=ticket_body(), headers=headers
        )

        assert bobs.status_code == 201
        assert bobs.json()["id"] != alices.json()["id"]
        assert bobs.json()["user_id"] == str(accounts.bob.user.id)

    async def test_concurrent_requests_make_one_ticket(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        headers = {"Idempotency-Key": "double-click"}

        responses = await asyncio.gather(
            *(
                accounts.alice.client.post("/api/v1/tickets", json=ticket_body(), headers=headers)
                for _ in range(3)
            )
        )

        assert [r.status_code for r in responses] == [201, 201, 201]
        assert len({r.json()["id"] for r in responses}) == 1
        assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 2
        assert await _count(conn) == 1

    async def test_a_failed_request_does_not_use_up_the_key(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        headers = {"Idempotency-Key": "retry-1"}
        refused = await accounts.alice.client.post(
            "/api/v1/tickets", json=ticket_body(tags=["x"]), headers=headers
        )
        assert refused.status_code == 403

        response = await accounts.alice.client.post(
            "/api/v1/tickets", json=ticket_body(), headers=headers
        )

        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response.headers


class TestGetTicket:
    async def test_anonymous(self, anon: AsyncClient, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await anon.get(f"/api/v1/tickets/{ticket.id}")

        assert response.status_code == 401
        assert ticket.title not in response.text

    async def test_by_id_and_by_number(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        by_id = await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}")
        by_number = await accounts.alice.client.get(f"/api/v1/tickets/{ticket.number}")

        assert by_id.status_code == by_number.status_code == 200
        assert by_id.json() == by_number.json()
        assert by_id.json()["title"] == ticket.title

    async def test_etag(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        before = await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}")
        await accounts.alice.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"title": "A clearer title now"}
        )
        after = await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}")

        assert before.headers["ETag"] == '"1"'
        assert after.headers["ETag"] == '"2"'

    async def test_other_users_ticket(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.bob.client.get(f"/api/v1/tickets/{ticket.id}")
        by_number = await accounts.bob.client.get(f"/api/v1/tickets/{ticket.number}")

        assert response.status_code == by_number.status_code == 404
        assert response.json()["code"] == "ticket_not_found"
        assert ticket.title not in response.text

    async def test_missing_looks_like_forbidden(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        hidden = await accounts.bob.client.get(f"/api/v1/tickets/{ticket.number}")
        missing = await accounts.bob.client.get(f"/api/v1/tickets/{ticket.number + 1}")

        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["code"] == missing.json()["code"]
        assert hidden.json()["title"] == missing.json()["title"]

    @pytest.mark.parametrize(
        "ref", ["999999", "not-a-ticket", "01900000-0000-7000-8000-000000000000", "9" * 30]
    )
    async def test_not_found(self, accounts: Accounts, ref: str) -> None:
        response = await accounts.agent.client.get(f"/api/v1/tickets/{ref}")

        assert response.status_code == 404
        assert response.json()["code"] == "ticket_not_found"

    async def test_staff_see_every_ticket(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        for person in (accounts.agent, accounts.admin):
            response = await person.client.get(f"/api/v1/tickets/{ticket.number}")
            assert response.status_code == 200
            assert response.json()["submitter"]["email"] == accounts.alice.user.email

    async def test_submitter_does_not_see_staff_addresses(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}/assign", json={"assignee_id": str(accounts.agent.user.id)}
        )
        await accounts.agent.client.post(
            f"/api/v1/tickets/{ticket.id}/comments", json={"comment": "Looking into it."}
        )

        response = await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}")

        detail = response.json()
        assert detail["submitter"]["email"] == accounts.alice.user.email
        assert detail["assigned_to"] == {
            "id": str(accounts.agent.user.id),
            "name": "Aaron Agent",
            "role": "agent",
            "email": None,
        }
        assert detail["comments"][0]["author"]["email"] is None
        assert accounts.agent.user.email not in response.text


class TestUpdateTicket:
    async def test_anonymous(self, anon: AsyncClient, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await anon.put(f"/api/v1/tickets/{ticket.id}", json={"priority": "low"})

        assert response.status_code == 401

    async def test_other_users_ticket(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.bob.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"title": "Bob was here, sadly"}
        )

        assert response.status_code == 404
        unchanged = await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}")
        assert unchanged.json()["title"] == ticket.title

    async def test_submitter_edits_own_words(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.alice.client.put(
            f"/api/v1/tickets/{ticket.number}",
            json={
                "title": "Export button does nothing on Firefox",
                "description": "Only on Firefox 128; Chrome downloads the CSV fine.",
                "metadata": {"browser": "Firefox 128"},
            },
        )

        assert response.status_code == 200
        assert response.headers["ETag"] == '"2"'
        assert response.json()["title"] == "Export button does nothing on Firefox"
        assert response.json()["metadata"] == {"browser": "Firefox 128"}
        assert response.json()["version"] == 2

    @pytest.mark.parametrize(
        "change", [{"priority": "critical"}, {"type": "feature"}, {"tags": ["billing"]}]
    )
    async def test_submitter_may_not_triage(
        self, accounts: Accounts, conn: Connection, change: dict[str, Any]
    ) -> None:
        await _label(accounts, "billing")
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.alice.client.put(f"/api/v1/tickets/{ticket.id}", json=change)

        assert response.status_code == 403
        assert response.json()["field"] == next(iter(change))
        after = await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}")
        assert after.json()["version"] == 1

    async def test_staff_triage(self, accounts: Accounts, conn: Connection) -> None:
        await _label(accounts, "billing")
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}",
            json={"priority": "critical", "type": "support", "tags": ["BILLING"]},
        )

        assert response.status_code == 200
        assert response.json()["priority"] == "critical"
        assert response.json()["type"] == "support"
        assert response.json()["tags"] == ["billing"]
        assert response.json()["version"] == 2

    async def test_unknown_label(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"tags": ["nope"]}
        )

        assert response.status_code == 422
        assert response.json()["field"] == "tags"

    async def test_nothing_changed(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"priority": ticket.priority}
        )

        assert response.status_code == 200
        assert response.json()["version"] == 1
        assert await _event_kinds(accounts.agent.client, ticket.id) == ["created"]

    async def test_invalid(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.alice.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"title": "short"}
        )

        assert response.status_code == 422
        assert response.json()["field"] == "title"

    async def test_stale_if_match(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        read = await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}")
        await accounts.alice.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"title": "Someone else's edit came first"}
        )

        response = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}",
            json={"priority": "high"},
            headers={"If-Match": read.headers["ETag"]},
        )

        assert response.status_code == 412
        assert response.json()["code"] == "stale_version"
        assert response.headers["ETag"] == '"2"'
        after = await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}")
        assert after.json()["priority"] == "medium"

    @pytest.mark.parametrize("if_match", ['"1"', '"7", "1"', "*"])
    async def test_current_if_match(
        self, accounts: Accounts, conn: Connection, if_match: str
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}",
            json={"priority": "high"},
            headers={"If-Match": if_match},
        )

        assert response.status_code == 200
        assert response.headers["ETag"] == '"2"'

    async def test_closed_ticket_is_read_only_for_the_submitter(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await accounts.agent.client.delete(f"/api/v1/tickets/{ticket.id}/close")

        response = await accounts.alice.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"title": "Editing after closing"}
        )

        assert response.status_code == 409
        assert response.json()["code"] == "ticket_closed"

    async def test_every_change_is_an_event(self, accounts: Accounts, conn: Connection) -> None:
        await _label(accounts, "billing")
        ticket = await create_ticket(conn, accounts.alice)

        await accounts.alice.client.put(
            f"/api/v1/tickets/{ticket.id}",
            json={"title": "A better title for it", "description": "More words " * 3},
        )
        await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}",
            json={"priority": "high", "type": "support", "tags": ["billing"]},
        )
        await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"metadata": {"os": "Linux"}}
        )

        events = (await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}/events")).json()
        by_kind = {event["kind"]: event for event in events["items"]}
        assert set(by_kind) == {
            "created",
            "title_changed",
            "description_changed",
            "priority_changed",
            "type_changed",
            "tags_changed",
            "metadata_changed",
        }
        assert by_kind["title_changed"]["data"] == {
            "from": ticket.title,
            "to": "A better title for it",
        }
        assert by_kind["title_changed"]["actor"]["id"] == str(accounts.alice.user.id)
        assert by_kind["priority_changed"]["data"] == {"from": "medium", "to": "high"}
        assert by_kind["priority_changed"]["actor"]["id"] == str(accounts.agent.user.id)
        assert by_kind["tags_changed"]["data"] == {"added": ["billing"], "removed": []}


class TestStatusFlow:
    async def test_staff_walk_the_whole_flow(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        agent = accounts.agent.client

        await _move(agent, ticket.id, "in_progress", "waiting", "in_progress")
        resolved = await _move(agent, ticket.id, "resolved")
        closed = await _move(agent, ticket.id, "closed")
        reopened = await _move(agent, ticket.id, "open")

        assert resolved.json()["resolved_at"] is not None
        assert closed.json()["closed_at"] is not None
        assert reopened.json()["status"] == "open"
        assert reopened.json()["resolved_at"] is None
        assert reopened.json()["closed_at"] is None
        events = (await agent.get(f"/api/v1/tickets/{ticket.id}/events")).json()["items"]
        assert [e["data"] for e in events if e["kind"] == "status_changed"] == [
            {"from": "open", "to": "in_progress"},
            {"from": "in_progress", "to": "waiting"},
            {"from": "waiting", "to": "in_progress"},
            {"from": "in_progress", "to": "resolved"},
            {"from": "resolved", "to": "closed"},
            {"from": "closed", "to": "open"},
        ]

    @pytest.mark.parametrize("status", ["in_progress", "waiting", "resolved"])
    async def test_staff_close_from_anywhere(
        self, accounts: Accounts, conn: Connection, status: str
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        path = {"in_progress": ["in_progress"], "waiting": ["in_progress", "waiting"]}.get(
            status, ["in_progress", "resolved"]
        )
        await _move(accounts.agent.client, ticket.id, *path)

        response = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"status": "closed"}
        )

        assert response.status_code == 200
        assert response.json()["status"] == "closed"

    @pytest.mark.parametrize(
        ("path", "target"),
        [(["in_progress", "resolved"], "waiting"), (["in_progress", "waiting"], "open")],
    )
    async def test_invalid_transition(
        self, accounts: Accounts, conn: Connection, path: list[str], target: str
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        if path:
            await _move(accounts.agent.client, ticket.id, *path)

        response = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"status": target}
        )

        assert response.status_code == 409
        assert response.json()["code"] == "invalid_transition"
        assert response.json()["field"] == "status"
        assert target in response.json()["detail"]

    @pytest.mark.parametrize("target", ["in_progress", "waiting", "resolved", "closed"])
    async def test_submitter_may_not_progress_an_open_ticket(
        self, accounts: Accounts, conn: Connection, target: str
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.alice.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"status": target}
        )

        assert response.status_code == 409
        assert response.json()["code"] == "invalid_transition"
        assert (await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}")).json()[
            "status"
        ] == "open"

    async def test_submitter_accepts_a_resolution(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await _move(accounts.agent.client, ticket.id, "in_progress", "resolved")

        response = await accounts.alice.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"status": "closed"}
        )

        assert response.status_code == 200
        assert response.json()["status"] == "closed"

    @pytest.mark.parametrize("status", ["resolved", "closed"])
    async def test_submitter_reopens(
        self, accounts: Accounts, conn: Connection, status: str
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await _move(accounts.agent.client, ticket.id, "in_progress", status)

        response = await accounts.alice.client.put(
            f"/api/v1/tickets/{ticket.id}", json={"status": "open"}
        )

        assert response.status_code == 200
        assert response.json()["status"] == "open"
        events = (await accounts.alice.client.get(f"/api/v1/tickets/{ticket.id}/events")).json()
        assert events["items"][-1]["data"] == {"from": status, "to": "open"}
        assert events["items"][-1]["actor"]["id"] == str(accounts.alice.user.id)

    @pytest.mark.parametrize(
        ("path", "staff", "submitter"),
        [
            ([], ["in_progress", "waiting", "resolved", "closed"], []),
            (["in_progress"], ["waiting", "resolved", "closed"], []),
            (["in_progress", "waiting"], ["in_progress", "resolved", "closed"], []),
            (["in_progress", "resolved"], ["open", "closed"], ["open", "closed"]),
            (["closed"], ["open"], ["open"]),
        ],
    )
    async def test_transitions_offered_are_the_ones_accepted(
        self,
        accounts: Accounts,
        conn: Connection,
        path: list[str],
        staff: list[str],
        submitter: list[str],
    ) -> None:
        current = path[-1] if path else "open"
        # Setting the status a ticket already has is no change, so not a transition.
        targets = [
            s for s in ("open", "in_progress", "waiting", "resolved", "closed") if s != current
        ]
        for who, expected in ((accounts.agent, staff), (accounts.alice, submitter)):
            for target in targets:
                ticket = await create_ticket(conn, accounts.alice)
                if path:
                    await _move(accounts.agent.client, ticket.id, *path)
                offered = (await who.client.get(f"/api/v1/tickets/{ticket.id}")).json()

                response = await who.client.put(
                    f"/api/v1/tickets/{ticket.id}", json={"status": target}
                )

                assert offered["transitions"] == expected
                if target in expected:
                    assert response.status_code == 200, (who.user.role, target, response.text)
                    assert response.json()["status"] == target
                else:
                    assert response.status_code == 409, (who.user.role, target, response.text)
                    assert response.json()["code"] == "invalid_transition"


class TestCloseTicket:
    async def test_anonymous(self, anon: AsyncClient, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        assert (await anon.delete(f"/api/v1/tickets/{ticket.id}/close")).status_code == 401

    async def test_other_users_ticket(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.bob.client.delete(f"/api/v1/tickets/{ticket.id}/close")

        assert response.status_code == 404

    async def test_staff_close(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.agent.client.delete(f"/api/v1/tickets/{ticket.number}/close")

        assert response.status_code == 200
        assert response.json()["status"] == "closed"
        assert response.json()["closed_at"] is not None
        assert response.headers["ETag"] == '"2"'
        assert (await _event_kinds(accounts.agent.client, ticket.id))[-1] == "status_changed"

    async def test_already_closed(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await accounts.agent.client.delete(f"/api/v1/tickets/{ticket.id}/close")

        response = await accounts.agent.client.delete(f"/api/v1/tickets/{ticket.id}/close")

        assert response.status_code == 409
        assert response.json()["code"] == "invalid_transition"

    async def test_submitter_may_not_close_an_open_ticket(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.alice.client.delete(f"/api/v1/tickets/{ticket.id}/close")

        assert response.status_code == 409
        assert response.json()["code"] == "invalid_transition"

    async def test_submitter_accepts_a_resolution(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await _move(accounts.agent.client, ticket.id, "in_progress", "resolved")

        response = await accounts.alice.client.delete(f"/api/v1/tickets/{ticket.id}/close")

        assert response.status_code == 200
        assert response.json()["status"] == "closed"

    async def test_stale_if_match(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await accounts.agent.client.put(f"/api/v1/tickets/{ticket.id}", json={"priority": "low"})

        response = await accounts.agent.client.delete(
            f"/api/v1/tickets/{ticket.id}/close", headers={"If-Match": '"1"'}
        )

        assert response.status_code == 412


class TestAssignTicket:
    async def test_anonymous(self, anon: AsyncClient, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await anon.put(f"/api/v1/tickets/{ticket.id}/assign", json={"assignee_id": None})

        assert response.status_code == 401

    async def test_to_an_agent(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}/assign",
            json={"assignee_id": str(accounts.agent.user.id)},
        )

        assert response.status_code == 200
        assert response.json()["assigned_to_user_id"] == str(accounts.agent.user.id)
        assert response.json()["assigned_to"]["name"] == "Aaron Agent"
        events = (await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}/events")).json()
        assert events["items"][-1]["kind"] == "assigned"
        assert events["items"][-1]["data"] == {
            "from": None,
            "to": {"id": str(accounts.agent.user.id), "name": "Aaron Agent"},
        }

    async def test_to_an_admin_then_unassigned(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}/assign",
            json={"assignee_id": str(accounts.admin.user.id)},
        )

        response = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}/assign", json={"assignee_id": None}
        )

        assert response.status_code == 200
        assert response.json()["assigned_to_user_id"] is None
        assert response.json()["assigned_to"] is None
        assert response.json()["version"] == 3

    async def test_to_a_submitter(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}/assign",
            json={"assignee_id": str(accounts.bob.user.id)},
        )

        assert response.status_code == 422
        assert response.json()["field"] == "assignee_id"
        assert response.json()["code"] == "not_assignable"

    async def test_to_nobody_known(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.agent.client.put(
            f"/api/v1/tickets/{ticket.id}/assign",
            json={"assignee_id": "01900000-0000-7000-8000-000000000000"},
        )

        assert response.status_code == 422
        assert response.json()["field"] == "assignee_id"

    async def test_to_a_deactivated_agent(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await accounts.admin.client.patch(
            f"/api/v1/users/{accounts.agent.user.id}", json={"is_active": False}
        )

        response = await accounts.admin.client.put(
            f"/api/v1/tickets/{ticket.id}/assign",
            json={"assignee_id": str(accounts.agent.user.id)},
        )

        assert response.status_code == 422

    async def test_by_the_submitter(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.alice.client.put(
            f"/api/v1/tickets/{ticket.id}/assign",
            json={"assignee_id": str(accounts.agent.user.id)},
        )

        assert response.status_code == 403
        assert response.json()["code"] == "staff_only"

    async def test_other_users_ticket(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await accounts.bob.client.put(
            f"/api/v1/tickets/{ticket.id}/assign",
            json={"assignee_id": str(accounts.agent.user.id)},
        )

        assert response.status_code == 404

    async def test_same_assignee_again_changes_nothing(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        body = {"assignee_id": str(accounts.agent.user.id)}
        await accounts.agent.client.put(f"/api/v1/tickets/{ticket.id}/assign", json=body)

        response = await accounts.agent.client.put(f"/api/v1/tickets/{ticket.id}/assign", json=body)

        assert response.json()["version"] == 2
        assert (await _event_kinds(accounts.agent.client, ticket.id)).count("assigned") == 1
