"""Staff presence on a ticket: ``PUT|GET|DELETE /api/v1/tickets/{id}/presence``.

Every scenario runs twice: with presence in PostgreSQL (no ``redis_url``) and in a real
Redis of the test's own.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from redis.asyncio import Redis

from tests.factories import Accounts, create_ticket, make_user, signed_in
from tests.redis_server import RedisServer
from ticketdesk.app import create_app
from ticketdesk.broadcast import CHANNEL as LIVE_CHANNEL
from ticketdesk.config import Settings
from ticketdesk.db import Connection


@pytest.fixture(params=["postgresql", "redis"])
def store(request: pytest.FixtureRequest) -> str:
    """Where presence is kept in this run of the test."""
    param: str = request.param
    return param


@pytest.fixture
def settings_overrides(store: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    if store == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        return {"redis_url": server.url}
    return {}


@pytest.fixture
async def ticket_url(accounts: Accounts, conn: Connection) -> str:
    ticket = await create_ticket(conn, accounts.alice)
    return f"/api/v1/tickets/{ticket.id}/presence"


async def mark(client: AsyncClient, url: str, state: str) -> list[dict[str, Any]]:
    response = await client.put(url, json={"state": state})
    assert response.status_code == 200, response.text
    others: list[dict[str, Any]] = response.json()["others"]
    return others


async def others(client: AsyncClient, url: str) -> list[dict[str, Any]]:
    response = await client.get(url)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["others"]
    return found


def who(found: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(person["user"]["name"], person["state"]) for person in found]


class TestMarkPresence:
    async def test_two_agents_see_each_other(self, accounts: Accounts, ticket_url: str) -> None:
        agent, admin = accounts.agent, accounts.admin

        assert await mark(agent.client, ticket_url, "viewing") == []
        seen_by_admin = await mark(admin.client, ticket_url, "replying")
        seen_by_agent = await others(agent.client, ticket_url)

        assert who(seen_by_admin) == [(agent.user.name, "viewing")]
        assert seen_by_admin[0]["user"]["id"] == str(agent.user.id)
        assert seen_by_admin[0]["user"]["role"] == "agent"
        assert who(seen_by_agent) == [(admin.user.name, "replying")]
        assert datetime.fromisoformat(seen_by_agent[0]["since"]).tzinfo is not None

    async def test_the_caller_is_not_in_its_own_list(
        self, accounts: Accounts, ticket_url: str
    ) -> None:
        await mark(accounts.agent.client, ticket_url, "replying")

        assert await others(accounts.agent.client, ticket_url) == []

    async def test_since_is_kept_on_renewal_and_restarted_by_a_change(
        self, accounts: Accounts, ticket_url: str
    ) -> None:
        await mark(accounts.agent.client, ticket_url, "viewing")
        first = (await others(accounts.admin.client, ticket_url))[0]["since"]

        await asyncio.sleep(0.05)
        await mark(accounts.agent.client, ticket_url, "viewing")
        renewed = (await others(accounts.admin.client, ticket_url))[0]["since"]
        await asyncio.sleep(0.05)
        await mark(accounts.agent.client, ticket_url, "replying")
        changed = (await others(accounts.admin.client, ticket_url))[0]

        assert renewed == first
        assert changed["state"] == "replying"
        assert datetime.fromisoformat(changed["since"]) > datetime.fromisoformat(first)

    async def test_other_tickets_are_apart(
        self, accounts: Accounts, conn: Connection, ticket_url: str
    ) -> None:
        other = await create_ticket(conn, accounts.bob)
        await mark(accounts.agent.client, ticket_url, "viewing")

        assert await others(accounts.admin.client, f"/api/v1/tickets/{other.id}/presence") == []

    async def test_by_ticket_number(
        self, accounts: Accounts, conn: Connection, ticket_url: str
    ) -> None:
        number = (await create_ticket(conn, accounts.alice)).number
        by_number = f"/api/v1/tickets/{number}/presence"
        await mark(accounts.agent.client, by_number, "viewing")

        assert who(await others(accounts.admin.client, by_number)) == [
            (accounts.agent.user.name, "viewing")
        ]

    async def test_unknown_state(self, accounts: Accounts, ticket_url: str) -> None:
        response = await accounts.agent.client.put(ticket_url, json={"state": "typing"})

        assert response.status_code == 422
        assert response.json()["field"] == "state"


class TestLeave:
    async def test_the_others_no_longer_see_who_left(
        self, accounts: Accounts, ticket_url: str
    ) -> None:
        await mark(accounts.agent.client, ticket_url, "replying")

        response = await accounts.agent.client.delete(ticket_url)

        assert response.status_code == 204
        assert await others(accounts.admin.client, ticket_url) == []

    async def test_leaving_twice(self, accounts: Accounts, ticket_url: str) -> None:
        await accounts.agent.client.delete(ticket_url)

        assert (await accounts.agent.client.delete(ticket_url)).status_code == 204


class TestExpiry:
    # Marks last 3 s instead of 45: long enough that a loaded machine renews in time, and
    # the test of a lapse waits for it with a deadline rather than a fixed sleep.
    TTL = 3.0

    @pytest.fixture
    async def short_lived(self, settings: Settings) -> AsyncIterator[FastAPI]:
        """The app with marks that last ``TTL`` seconds."""
        application = create_app(settings, presence_ttl=timedelta(seconds=self.TTL))
        async with application.router.lifespan_context(application):
            yield application

    async def test_a_mark_not_renewed_lapses(
        self, short_lived: FastAPI, accounts: Accounts, conn: Connection, ticket_url: str
    ) -> None:
        async with (
            signed_in(short_lived, conn, accounts.agent.user) as agent,
            signed_in(short_lived, conn, accounts.admin.user) as admin,
        ):
            before_marking = time.monotonic()
            await mark(agent, ticket_url, "viewing")
            assert who(await others(admin, ticket_url)) == [(accounts.agent.user.name, "viewing")]

            # Looked at until it lapses, for 10 s at most.
            for _ in range(50):
                if not (seen := await others(admin, ticket_url)):
                    break
                await asyncio.sleep(0.2)
            lapsed_after = time.monotonic() - before_marking

        assert seen == []
        # Not before its time (a tenth of a second less, for the clocks' rounding).
        assert lapsed_after >= self.TTL - 0.1

    async def test_a_renewed_mark_stays(
        self, short_lived: FastAPI, accounts: Accounts, conn: Connection, ticket_url: str
    ) -> None:
        async with (
            signed_in(short_lived, conn, accounts.agent.user) as agent,
            signed_in(short_lived, conn, accounts.admin.user) as admin,
        ):
            # Renewed every second, for longer than a mark lasts.
            for _ in range(5):
                await mark(agent, ticket_url, "viewing")
                await asyncio.sleep(1.0)

            assert who(await others(admin, ticket_url)) == [(accounts.agent.user.name, "viewing")]


class TestExpiredMarksInPostgreSQL:
    """Every PUT prunes expired rows; two PUTs renewing their own expired marks must not
    wait for each other."""

    @pytest.fixture
    def store(self) -> str:
        return "postgresql"

    @staticmethod
    async def expire_all(conn: Connection) -> None:
        await conn.execute("update ticket_presence set expires_at = now() - interval '1 minute'")

    async def test_a_put_does_not_wait_for_an_expired_mark_another_put_holds(
        self, accounts: Accounts, conn: Connection, database_url: str, ticket_url: str
    ) -> None:
        await mark(accounts.agent.client, ticket_url, "viewing")
        await mark(accounts.admin.client, ticket_url, "viewing")
        await self.expire_all(conn)

        async with await psycopg.AsyncConnection.connect(database_url) as other_put:
            # The agent's renewal, in a transaction that has not committed yet.
            await other_put.execute(
                "update ticket_presence set expires_at = now() + interval '45 seconds'"
                " where user_id = %s",
                (accounts.agent.user.id,),
            )
            seen = await asyncio.wait_for(mark(accounts.admin.client, ticket_url, "replying"), 5)
            await other_put.commit()
        after = await others(accounts.admin.client, ticket_url)

        # The agent's renewal was not committed when the admin's PUT answered, and was not
        # pruned either.
        assert seen == []
        assert who(after) == [(accounts.agent.user.name, "viewing")]

    async def test_concurrent_puts_over_expired_marks(
        self, app: FastAPI, accounts: Accounts, conn: Connection
    ) -> None:
        tickets = [await create_ticket(conn, accounts.alice) for _ in range(2)]
        urls = [f"/api/v1/tickets/{ticket.id}/presence" for ticket in tickets]
        staff = [await make_user(conn, role="agent", name=f"Agent {n}") for n in range(4)]
        async with AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(signed_in(app, conn, user)) for user in staff
            ]
            # One by one first: everyone is on both tickets (and has used their token).
            for client in clients:
                for url in urls:
                    await mark(client, url, "viewing")
            for _ in range(10):
                await self.expire_all(conn)
                answers = await asyncio.wait_for(
                    asyncio.gather(
                        *(
                            client.put(url, json={"state": "viewing"})
                            for client in clients
                            for url in urls
                        )
                    ),
                    10,
                )
                assert [answer.status_code for answer in answers] == [200] * 8

            everyone = await others(accounts.admin.client, urls[0])

        assert sorted(person["user"]["name"] for person in everyone) == [
            f"Agent {n}" for n in range(4)
        ]


class TestCorruptMarksInRedis:
    @pytest.fixture
    def store(self) -> str:
        return "redis"

    async def test_what_is_not_a_mark_is_skipped_and_removed(
        self, settings: Settings, accounts: Accounts, ticket_url: str
    ) -> None:
        await mark(accounts.agent.client, ticket_url, "viewing")
        assert settings.redis_url is not None
        client = Redis.from_url(settings.redis_url.get_secret_value())
        key = f"ticketdesk:presence:{ticket_url.split('/')[4]}"
        try:
            await client.hset(
                key,
                mapping={
                    str(accounts.admin.user.id): "not json",
                    "not-a-user-id": json.dumps({"state": "viewing", "since": 1, "expires": 1e12}),
                    str(accounts.bob.user.id): json.dumps({"state": "viewing"}),
                },
            )
            seen = await others(accounts.admin.client, ticket_url)
            left = await client.hkeys(key)
            # The admin's own corrupt mark does not stop them marking themselves again.
            again = await mark(accounts.admin.client, ticket_url, "replying")
        finally:
            await client.aclose()

        assert who(seen) == [(accounts.agent.user.name, "viewing")]
        assert left == [str(accounts.agent.user.id).encode()]
        assert who(again) == [(accounts.agent.user.name, "viewing")]


class TestSubmitters:
    async def test_the_submitter_is_refused(self, accounts: Accounts, ticket_url: str) -> None:
        for response in (
            await accounts.alice.client.put(ticket_url, json={"state": "viewing"}),
            await accounts.alice.client.get(ticket_url),
            await accounts.alice.client.delete(ticket_url),
        ):
            assert response.status_code == 403
            assert response.json()["code"] == "staff_only"

    async def test_someone_elses_ticket_is_not_found(
        self, accounts: Accounts, ticket_url: str
    ) -> None:
        response = await accounts.bob.client.get(ticket_url)

        assert response.status_code == 404

    async def test_staff_never_see_a_submitter(self, accounts: Accounts, ticket_url: str) -> None:
        await accounts.alice.client.put(ticket_url, json={"state": "viewing"})

        assert await others(accounts.agent.client, ticket_url) == []

    async def test_unknown_ticket(self, accounts: Accounts) -> None:
        response = await accounts.agent.client.get(
            "/api/v1/tickets/00000000-0000-0000-0000-00000000abcd/presence"
        )

        assert response.status_code == 404


class TestLiveNotifications:
    async def test_arrival_change_and_leaving_are_announced_renewal_is_not(
        self, accounts: Accounts, database_url: str, ticket_url: str
    ) -> None:
        ticket_id = ticket_url.split("/")[4]
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as listen:
            await listen.execute(f"listen {LIVE_CHANNEL}")

            await mark(accounts.agent.client, ticket_url, "viewing")
            await mark(accounts.agent.client, ticket_url, "viewing")
            await mark(accounts.agent.client, ticket_url, "replying")
            await accounts.agent.client.delete(ticket_url)
            await accounts.agent.client.delete(ticket_url)
            await others(accounts.agent.client, ticket_url)

            heard = [
                json.loads(note.payload)
                async for note in listen.notifies(timeout=1.0)
                if note.channel == LIVE_CHANNEL
            ]

        assert heard == [{"presence": ticket_id}] * 3


class TestStore:
    async def test_kept_in_redis_when_set_else_in_postgresql(
        self, store: str, settings: Settings, accounts: Accounts, conn: Connection, ticket_url: str
    ) -> None:
        await mark(accounts.agent.client, ticket_url, "viewing")

        cur = await conn.execute("select count(*) as n from ticket_presence")
        rows = (await cur.fetchone() or {})["n"]
        if store == "redis":
            assert settings.redis_url is not None
            client = Redis.from_url(settings.redis_url.get_secret_value())
            try:
                keys = await client.keys("ticketdesk:presence:*")
            finally:
                await client.aclose()
            assert (rows, len(keys)) == (0, 1)
        else:
            assert rows == 1
