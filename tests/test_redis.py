"""The optional Redis, for real: two app processes share one redis-server of the test's
own; it is stopped and started again in the middle of a test."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from pydantic import SecretStr
from redis.asyncio import Redis

from tests.factories import Accounts, create_ticket, make_user, signed_in
from tests.redis_server import RedisServer
from ticketdesk.app import create_app
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.rate_limits import TOKENS_PER_HOUR


@pytest.fixture
def settings_overrides(redis_server: RedisServer) -> dict[str, Any]:
    return {"redis_url": redis_server.url}


# How often the apps here try a Redis that went away again (5 s in production).
REPROBE_SECONDS = 0.2


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """One API process, quick to notice that Redis is back."""
    application = create_app(settings, redis_reprobe_seconds=REPROBE_SECONDS)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def second_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """Another API process on the same database and Redis."""
    application = create_app(settings, redis_reprobe_seconds=REPROBE_SECONDS)
    async with application.router.lifespan_context(application):
        yield application


async def new_tokens(client: AsyncClient, count: int) -> list[int]:
    return [
        (await client.post("/api/v1/me/tokens", json={"name": f"t{n}"})).status_code
        for n in range(count)
    ]


async def redis_keys(server: RedisServer, pattern: str) -> list[bytes | str]:
    client = Redis.from_url(server.url)
    try:
        return await client.keys(pattern)
    finally:
        await client.aclose()


def warnings(caplog: pytest.LogCaptureFixture, words: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "ticketdesk.redis_client" and words in record.getMessage()
    ]


async def shares_one_count(app: FastAPI, second_app: FastAPI, conn: Connection) -> None:
    """A new account's tokens, half made through each process, meet one limit."""
    person = await make_user(conn, name="Count Shared")
    async with signed_in(app, conn, person) as one, signed_in(second_app, conn, person) as two:
        half = TOKENS_PER_HOUR // 2
        made = await new_tokens(one, half) + await new_tokens(two, TOKENS_PER_HOUR - half)
        refused = (await one.post("/api/v1/me/tokens", json={"name": "one more"})).status_code
    assert made == [201] * TOKENS_PER_HOUR
    assert refused == 429


class TestSharedLimits:
    async def test_two_processes_see_one_count(
        self, app: FastAPI, second_app: FastAPI, conn: Connection, redis_server: RedisServer
    ) -> None:
        await shares_one_count(app, second_app, conn)

        assert await redis_keys(redis_server, "ticketdesk:limits*")

    async def test_presence_is_shared_through_redis(
        self, app: FastAPI, second_app: FastAPI, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        url = f"/api/v1/tickets/{ticket.id}/presence"
        async with (
            signed_in(app, conn, accounts.agent.user) as agent,
            signed_in(second_app, conn, accounts.admin.user) as admin,
        ):
            await agent.put(url, json={"state": "replying"})
            seen = (await admin.get(url)).json()["others"]

        assert [(p["user"]["id"], p["state"]) for p in seen] == [
            (str(accounts.agent.user.id), "replying")
        ]


class TestUnixSocket:
    async def test_a_process_on_the_socket_shares_the_count_of_one_on_tcp(
        self, app: FastAPI, settings: Settings, conn: Connection, redis_server: RedisServer
    ) -> None:
        on_socket = settings.model_copy(update={"redis_url": SecretStr(redis_server.socket_url)})
        application = create_app(on_socket)
        async with application.router.lifespan_context(application):
            await shares_one_count(app, application, conn)


class TestRedisGoesAway:
    async def test_requests_go_on_and_sharing_resumes_when_it_is_back(
        self,
        app: FastAPI,
        second_app: FastAPI,
        accounts: Accounts,
        conn: Connection,
        redis_server: RedisServer,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.INFO, logger="ticketdesk.redis_client")
        ticket = await create_ticket(conn, accounts.alice)
        url = f"/api/v1/tickets/{ticket.id}/presence"
        async with (
            signed_in(app, conn, accounts.agent.user) as agent_one,
            signed_in(second_app, conn, accounts.admin.user) as admin_two,
            signed_in(app, conn, accounts.bob.user) as bob_one,
            signed_in(second_app, conn, accounts.bob.user) as bob_two,
        ):
            assert (await agent_one.put(url, json={"state": "viewing"})).status_code == 200

            redis_server.stop()

            # Presence from PostgreSQL, which both processes share.
            marked = await agent_one.put(url, json={"state": "replying"})
            seen = await admin_two.put(url, json={"state": "viewing"})
            # Limits in each process: Bob's count in one is not the other's.
            in_one = await new_tokens(bob_one, TOKENS_PER_HOUR + 1)
            in_two = await new_tokens(bob_two, 1)
            # Many requests while it is away, one warning from each process.
            for _ in range(3):
                assert (await agent_one.get(url)).status_code == 200
                assert (await admin_two.get(url)).status_code == 200

        assert marked.status_code == 200
        assert seen.status_code == 200
        assert [p["state"] for p in seen.json()["others"]] == ["replying"]
        assert in_one == [201] * TOKENS_PER_HOUR + [429]
        assert in_two == [201]
        lost = warnings(caplog, "cannot be reached")
        assert len(lost) == 2
        assert f"127.0.0.1:{redis_server.port}/0" in lost[0]
        assert redis_server.password is not None
        assert redis_server.password not in caplog.text

        redis_server.start()
        await asyncio.sleep(REPROBE_SECONDS + 0.3)

        await shares_one_count(app, second_app, conn)
        async with signed_in(app, conn, accounts.agent.user) as agent_one:
            assert (await agent_one.put(url, json={"state": "viewing"})).status_code == 200
        assert await redis_keys(redis_server, "ticketdesk:presence:*")
        assert len(warnings(caplog, "is back:")) == 2
        assert len(warnings(caplog, "cannot be reached")) == 2


class TestRedisHangs:
    async def test_requests_answer_within_its_timeouts_and_go_on_without_it(
        self,
        app: FastAPI,
        second_app: FastAPI,
        accounts: Accounts,
        conn: Connection,
        redis_server: RedisServer,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.INFO, logger="ticketdesk.redis_client")
        ticket = await create_ticket(conn, accounts.alice)
        url = f"/api/v1/tickets/{ticket.id}/presence"
        timed: list[tuple[int, float]] = []

        async def timed_request(client: AsyncClient, method: str, **kwargs: Any) -> None:
            started = time.monotonic()
            response = await client.request(method, url, **kwargs)
            timed.append((response.status_code, time.monotonic() - started))

        async with (
            signed_in(app, conn, accounts.agent.user) as agent_one,
            signed_in(second_app, conn, accounts.admin.user) as admin_two,
        ):
            assert (await agent_one.put(url, json={"state": "viewing"})).status_code == 200

            redis_server.pause()
            try:
                await timed_request(agent_one, "PUT", json={"state": "replying"})
                await timed_request(admin_two, "PUT", json={"state": "viewing"})
                for _ in range(3):
                    await asyncio.sleep(REPROBE_SECONDS)
                    await timed_request(agent_one, "GET")
                    await timed_request(admin_two, "GET")
                seen = (await admin_two.get(url)).json()["others"]
                made = (await agent_one.post("/api/v1/me/tokens", json={"name": "t"})).status_code
            finally:
                redis_server.resume()

        # A hung Redis costs a request one command's timeout (1 s), not a hang: paused, it
        # would never answer. The bound leaves room for a busy machine.
        assert [status for status, _ in timed] == [200] * 8
        assert max(seconds for _, seconds in timed) <= 4.0, timed
        assert [p["state"] for p in seen] == ["replying"]
        assert made == 201
        lost = warnings(caplog, "cannot be reached")
        assert len(lost) == 2
        assert "TimeoutError" in lost[0]

        await asyncio.sleep(REPROBE_SECONDS + 0.3)
        await shares_one_count(app, second_app, conn)
        assert len(warnings(caplog, "is back:")) == 2


class TestRedisAwayAtStart:
    async def test_a_process_started_while_it_is_away_serves(
        self,
        settings: Settings,
        conn: Connection,
        redis_server: RedisServer,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.INFO, logger="ticketdesk.redis_client")
        redis_server.stop()
        person = await make_user(conn, name="Early Riser")

        application = create_app(settings)
        async with (
            application.router.lifespan_context(application),
            signed_in(application, conn, person) as client,
        ):
            made = await new_tokens(client, 2)

        assert made == [201, 201]
        assert len(warnings(caplog, "cannot be reached")) == 1
