"""GET /api/v1/events/stream: ticket changes pushed as server-sent events, across processes."""

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

from tests.factories import PASSWORD, ticket_body
from tests.live.conftest import EventReader, Server, Someone, open_stream, serving_one
from ticketdesk import broadcast
from ticketdesk.auth import service as auth
from ticketdesk.auth.service import Actor
from ticketdesk.config import GitHubSettings, Settings
from ticketdesk.db import Connection
from ticketdesk.github import service as github
from ticketdesk.github.schemas import GitHubLinkRequest
from ticketdesk.live.hub import APPLICATION_NAME
from ticketdesk.live.service import Timing
from ticketdesk.tickets.access import get_visible_ticket
from ticketdesk.users.schemas import Role

Person = Callable[[Role, str], Awaitable[Someone]]


async def _call(
    method: str, server: Server, path: str, headers: dict[str, str], body: Any = None
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"{server.url}/api/v1", headers=headers) as client:
        return await client.request(method, path, json=body)


async def _post(server: Server, who: Someone, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await _call("POST", server, path, who.headers, body)
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


async def _open_ticket(server: Server, who: Someone, **overrides: Any) -> dict[str, Any]:
    return await _post(server, who, "/tickets", ticket_body(**overrides))


async def _reply(
    server: Server, who: Someone, ticket_id: str, text: str, *, internal: bool = False
) -> None:
    body = {"comment": text, "is_internal": internal}
    await _post(server, who, f"/tickets/{ticket_id}/comments", body)


async def _timeline(server: Server, who: Someone, ticket_id: str) -> list[dict[str, Any]]:
    response = await _call("GET", server, f"/tickets/{ticket_id}/events", who.headers)
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _first_event(stream: EventReader) -> dict[str, Any]:
    frame = await stream.next_event()
    assert frame.event == "ticket"
    data: dict[str, Any] = json.loads(frame.data or "")
    assert frame.id == data["id"]
    return data


class TestStreamEvents:
    async def test_anonymous(self, servers: tuple[Server, Server]) -> None:
        response = await _call("GET", servers[0], "/events/stream", {})

        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"

    async def test_change_through_another_process(
        self, servers: tuple[Server, Server], person: Person
    ) -> None:
        one, other = servers
        agent = await person("agent", "Grace Agent")
        alice = await person("user", "Alice Submitter")

        async with open_stream(one.url, agent.headers) as stream:
            assert stream.response.status_code == 200
            assert stream.response.headers["content-type"].startswith("text/event-stream")
            assert stream.response.headers["cache-control"] == "no-store"
            assert stream.response.headers["x-accel-buffering"] == "no"
            assert (await stream.next()).retry == 3000

            ticket = await _open_ticket(other, alice, title="Export is empty")
            event = await _first_event(stream)

        assert event["kind"] == "created"
        assert event["ticket_id"] == ticket["id"]
        assert event["ticket_number"] == ticket["number"]
        assert event["data"]["title"] == "Export is empty"
        # Staff see addresses, as on the timeline.
        assert event["actor"] == {
            "id": str(alice.user.id),
            "name": "Alice Submitter",
            "role": "user",
            "email": alice.user.email,
        }

    async def test_each_sees_what_the_timeline_shows(
        self, servers: tuple[Server, Server], person: Person
    ) -> None:
        one, other = servers
        agent = await person("agent", "Grace Agent")
        alice = await person("user", "Alice Submitter")
        bob = await person("user", "Bob Submitter")

        async with (
            open_stream(one.url, agent.headers) as staff,
            open_stream(one.url, alice.headers) as submitter,
            open_stream(one.url, bob.headers) as stranger,
        ):
            for stream in (staff, submitter, stranger):
                assert (await stream.next()).retry == 3000
            ticket = await _open_ticket(other, alice)
            await _reply(other, agent, ticket["id"], "Looks like the cache.", internal=True)
            await _reply(other, agent, ticket["id"], "Fixed, please try again.")

            seen_by_staff = [await _first_event(staff) for _ in range(3)]
            seen_by_submitter = [await _first_event(submitter) for _ in range(2)]
            assert await submitter.quiet_for(1) == []
            assert await stranger.quiet_for(0.5) == []

        assert [(e["kind"], e["data"].get("is_internal")) for e in seen_by_staff] == [
            ("created", None),
            ("commented", True),
            ("commented", False),
        ]
        internal_id = seen_by_staff[1]["id"]
        assert internal_id not in {e["id"] for e in seen_by_submitter}
        assert [e["kind"] for e in seen_by_submitter] == ["created", "commented"]
        # Like the timeline: a submitter sees the agent's name, not their address.
        assert seen_by_submitter[1]["actor"]["email"] is None
        assert seen_by_submitter[1]["actor"]["name"] == "Grace Agent"
        timeline = await _timeline(one, alice, ticket["id"])
        assert [e["id"] for e in timeline] == [e["id"] for e in seen_by_submitter]

    async def test_reconnect_replays_what_was_missed(
        self, servers: tuple[Server, Server], person: Person
    ) -> None:
        one, other = servers
        agent = await person("agent", "Grace Agent")
        alice = await person("user", "Alice Submitter")
        async with open_stream(one.url, alice.headers) as stream:
            await stream.next()
            ticket = await _open_ticket(other, alice)
            last_seen = await _first_event(stream)
        # While nobody listens: two replies and a note.
        await _reply(other, agent, ticket["id"], "First answer.")
        await _reply(other, agent, ticket["id"], "Internal.", internal=True)
        await _reply(other, agent, ticket["id"], "Second answer.")

        async with open_stream(
            one.url, {**alice.headers, "Last-Event-ID": last_seen["id"]}
        ) as stream:
            assert (await stream.next()).retry == 3000
            missed = [await _first_event(stream) for _ in range(2)]
            assert await stream.quiet_for(0.5) == []
        # The same with the query parameter, for clients that cannot set headers.
        async with open_stream(
            other.url, alice.headers, params={"last_event_id": last_seen["id"]}
        ) as stream:
            await stream.next()
            again = [await _first_event(stream) for _ in range(2)]

        assert [e["kind"] for e in missed] == ["commented", "commented"]
        assert missed == again
        timeline = await _timeline(one, alice, ticket["id"])
        assert [e["id"] for e in missed] == [e["id"] for e in timeline[1:]]

    @pytest.mark.parametrize(
        "last_event_id",
        [
            "0190f5c2-7a1e-7000-8000-000000000000",  # two years old
            "ffffffff-ffff-7fff-bfff-ffffffffffff",  # from the year 10889
            "not-an-id",
            "recent",  # made now, but no such event
        ],
    )
    async def test_unknown_last_event_id_resets(
        self, servers: tuple[Server, Server], person: Person, last_event_id: str
    ) -> None:
        alice = await person("user", "Alice Submitter")
        if last_event_id == "recent":
            last_event_id = str(uuid.UUID(int=int(time.time() * 1000) << 80 | 0x7000 << 64))

        async with open_stream(
            servers[0].url, {**alice.headers, "Last-Event-ID": last_event_id}
        ) as stream:
            await stream.next()
            frame = await stream.next_event()

        assert (frame.event, frame.id) == ("reset", None)
        assert json.loads(frame.data or "") == {"reason": "unknown_last_event_id"}

    async def test_someone_elses_event_resets(
        self, servers: tuple[Server, Server], person: Person
    ) -> None:
        one, other = servers
        alice = await person("user", "Alice Submitter")
        bob = await person("user", "Bob Submitter")
        async with open_stream(one.url, alice.headers) as stream:
            await stream.next()
            await _open_ticket(other, alice)
            alices = await _first_event(stream)

        async with open_stream(one.url, {**bob.headers, "Last-Event-ID": alices["id"]}) as stream:
            await stream.next()
            frame = await stream.next_event()

        assert frame.event == "reset"

    async def test_heartbeat(self, servers: tuple[Server, Server], person: Person) -> None:
        alice = await person("user", "Alice Submitter")

        async with open_stream(servers[0].url, alice.headers) as stream:
            await stream.next()
            frame = await stream.next(seconds=3)

        assert frame.comment == "ping"

    async def test_revoked_token_ends_the_stream(
        self, servers: tuple[Server, Server], person: Person
    ) -> None:
        one, other = servers
        alice = await person("user", "Alice Submitter")
        tokens = await _call("GET", other, "/me/tokens", alice.headers)
        token_id = tokens.json()[0]["id"]

        async with open_stream(one.url, alice.headers) as stream:
            await stream.next()
            revoked = await _call("DELETE", other, f"/me/tokens/{token_id}", alice.headers)
            assert revoked.status_code == 204
            await stream.until_end()

        again = await _call("GET", one, "/events/stream", alice.headers)
        assert again.status_code == 401

    async def test_read_only_token_streams(
        self, servers: tuple[Server, Server], person: Person
    ) -> None:
        one, other = servers
        alice = await person("user", "Alice Submitter")
        made = await _post(other, alice, "/me/tokens", {"name": "watch", "scope": "read"})
        reader = {"Authorization": f"Bearer {made['token']}"}

        async with open_stream(one.url, reader) as stream:
            assert stream.response.status_code == 200
            assert (await stream.next()).retry == 3000
            ticket = await _open_ticket(other, alice, title="Seen by a read-only token")
            event = await _first_event(stream)

        assert event["ticket_id"] == ticket["id"]

    async def test_revoking_a_parent_ends_its_childs_stream(
        self, servers: tuple[Server, Server], person: Person
    ) -> None:
        one, other = servers
        alice = await person("user", "Alice Submitter")
        parent = await _post(other, alice, "/me/tokens", {"name": "parent"})
        child = await _post(
            other, Someone(alice.user, parent["token"]), "/me/tokens", {"name": "child"}
        )
        with_child = {"Authorization": f"Bearer {child['token']}"}

        async with open_stream(one.url, with_child) as stream:
            await stream.next()
            revoked = await _call("DELETE", other, f"/me/tokens/{parent['id']}", alice.headers)
            assert revoked.status_code == 204
            await stream.until_end()

        again = await _call("GET", one, "/events/stream", with_child)
        assert again.status_code == 401

    async def test_an_expiring_tokens_stream_ends_when_it_does(
        self, settings: Settings, conn: Connection, person: Person
    ) -> None:
        alice = await person("user", "Alice Submitter")
        # Credentials checked again only hourly: the end comes from the expiry itself.
        hourly = Timing(heartbeat_seconds=0.5, recheck_seconds=3600)

        with serving_one(settings, hourly) as server:
            made = await auth.create_token(
                conn, alice.user.id, "brief", expires_at=datetime.now(UTC) + timedelta(seconds=3)
            )
            brief = {"Authorization": f"Bearer {made.token}"}
            async with open_stream(server.url, brief) as stream:
                assert stream.response.status_code == 200
                await stream.until_end(seconds=15)

            again = await _call("GET", server, "/events/stream", brief)
        assert again.status_code == 401

    async def test_signed_out_session_ends_the_stream(
        self, servers: tuple[Server, Server], person: Person
    ) -> None:
        one, other = servers
        alice = await person("user", "Alice Submitter")
        credentials = {"email": alice.user.email, "password": PASSWORD}
        login = await _call("POST", other, "/auth/login", {}, credentials)
        assert login.status_code == 200
        cookie = "; ".join(f"{k}={v}" for k, v in login.cookies.items())

        async with open_stream(one.url, {"Cookie": cookie}) as stream:
            assert (await stream.next()).retry == 3000
            csrf = login.cookies["ticketdesk_csrf"]
            signed_out = await _call(
                "POST", other, "/auth/logout", {"Cookie": cookie, "X-CSRF-Token": csrf}
            )
            assert signed_out.status_code == 204
            await stream.until_end()

        again = await _call("GET", one, "/events/stream", {"Cookie": cookie})
        assert again.status_code == 401

    async def test_presence_reaches_staff_only(
        self, servers: tuple[Server, Server], person: Person, conn: Connection
    ) -> None:
        one, other = servers
        agent = await person("agent", "Grace Agent")
        alice = await person("user", "Alice Submitter")
        ticket = await _open_ticket(other, alice)

        async with (
            open_stream(one.url, agent.headers) as staff,
            open_stream(one.url, alice.headers) as submitter,
        ):
            await staff.next()
            await submitter.next()
            async with conn.transaction():
                await broadcast.announce_presence(conn, ticket["id"])
            frame = await staff.next_event()
            assert await submitter.quiet_for(0.5) == []

        assert (frame.event, frame.id) == ("presence", None)
        assert json.loads(frame.data or "") == {"ticket_id": ticket["id"]}

    async def test_github_link_changes_reach_staff_only(
        self, servers: tuple[Server, Server], person: Person, conn: Connection
    ) -> None:
        one, other = servers
        agent = await person("agent", "Grace Agent")
        alice = await person("user", "Alice Submitter")
        ticket = await _open_ticket(other, alice)
        staff_actor = Actor(
            id=agent.user.id, email=agent.user.email, name=agent.user.name, role="agent"
        )
        async with conn.transaction():
            locked = await get_visible_ticket(conn, staff_actor, ticket["id"])
            await github.request_link(
                conn,
                GitHubSettings(enabled=True, repo="acme/widgets"),
                staff_actor,
                locked,
                GitHubLinkRequest(create=True),
            )
        ticket_id = uuid.UUID(ticket["id"])

        async with (
            open_stream(one.url, agent.headers) as staff,
            open_stream(one.url, alice.headers) as submitter,
        ):
            await staff.next()
            await submitter.next()
            # As the sync job records its outcome: each statement commits on its own.
            await github.record_link_error(conn, ticket_id, "GitHub answered 502")
            failed = await staff.next_event()
            # The same error again changes nothing shown: the next notice is the marker's.
            await github.record_link_error(conn, ticket_id, "GitHub answered 502")
            async with conn.transaction():
                await broadcast.announce_presence(conn, ticket_id)
            marker = await staff.next_event()
            await github.record_synced(conn, ticket_id)
            synced = await staff.next_event()
            await github.record_synced(conn, ticket_id)
            assert await staff.quiet_for(0.5) == []
            assert await submitter.quiet_for(0.5) == []

        for frame in (failed, synced):
            assert (frame.event, frame.id) == ("github", None)
            assert json.loads(frame.data or "") == {"ticket_id": ticket["id"]}
        assert marker.event == "presence"

    async def test_listener_reconnects_and_streams_catch_up(
        self, servers: tuple[Server, Server], person: Person, conn: Connection
    ) -> None:
        one, other = servers
        agent = await person("agent", "Grace Agent")
        alice = await person("user", "Alice Submitter")

        async with (
            open_stream(one.url, agent.headers) as staff,
            open_stream(one.url, alice.headers) as submitter,
        ):
            await staff.next()
            await submitter.next()
            one.reconnects.allowed.clear()
            # Every listening connection on this database goes away, as in a restart.
            cur = await conn.execute(
                "select count(pg_terminate_backend(pid)) as n from pg_stat_activity"
                " where datname = current_database() and application_name = %s",
                (APPLICATION_NAME,),
            )
            assert await cur.fetchone() == {"n": 2}
            assert await asyncio.to_thread(one.reconnects.waiting.wait, 10)
            ticket = await _open_ticket(other, alice)  # announced while `one` is not listening
            one.reconnects.allowed.set()
            seen_by_staff = await _first_event(staff)
            seen_by_alice = await _first_event(submitter)

        assert seen_by_staff["ticket_id"] == seen_by_alice["ticket_id"] == ticket["id"]

    async def test_a_client_that_leaves_leaves_no_stream(
        self, servers: tuple[Server, Server], person: Person
    ) -> None:
        one, _ = servers
        alice = await person("user", "Alice Submitter")
        hub = one.app.state.live

        async with open_stream(one.url, alice.headers) as stream:
            await stream.next()
            assert hub.streams == 1
        for _ in range(100):  # the hub runs on the server's thread: look every 50 ms
            if hub.streams == 0:
                break
            await asyncio.sleep(0.05)
        assert hub.streams == 0

    async def test_a_failing_query_ends_the_stream_cleanly(
        self,
        servers: tuple[Server, Server],
        person: Person,
        conn: Connection,
        caplog: pytest.LogCaptureFixture,
        server_dsn: str,
    ) -> None:
        one, _ = servers
        agent = await person("agent", "Grace Agent")
        server_log = logging.getLogger("uvicorn.error")  # uvicorn's, kept from the root
        server_log.addHandler(caplog.handler)

        async with open_stream(one.url, agent.headers) as stream:
            await stream.next()
            # The pools' connections go away and no new one is let in: the stream's next
            # credentials check fails (the pool gives up after its POOL_TIMEOUT).
            database = sql.Identifier(conn.info.dbname)
            allow = sql.SQL("alter database {} allow_connections {}")
            # Not from a connection to the database itself, which may not do this.
            async with await psycopg.AsyncConnection.connect(server_dsn, autocommit=True) as server:
                await server.execute(allow.format(database, sql.SQL("false")))
                await conn.execute(
                    "select pg_terminate_backend(pid) from pg_stat_activity"
                    " where datname = current_database() and pid <> pg_backend_pid()"
                    " and application_name <> %s",
                    (APPLICATION_NAME,),
                )
                try:
                    frames = await stream.until_end()
                finally:
                    await server.execute(allow.format(database, sql.SQL("true")))
                    server_log.removeHandler(caplog.handler)

        assert all(frame.comment == "ping" for frame in frames)
        # Ended by the stream, as a warning, not as a server error.
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
        assert "a stream ends, its database query failed" in caplog.text
