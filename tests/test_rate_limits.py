"""Rate limits, as a client meets them: the action one too many is a 429 with
``Retry-After``, and someone else (another address, another account) is not affected.

These run without Redis, so each app counts in its own process; ``test_redis.py`` has
the same limits shared through a real Redis.
"""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response

from tests.factories import PASSWORD, Accounts, create_ticket
from tests.mailservers import SmtpServer
from ticketdesk.auth import links
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.rate_limits import (
    LOGINS_PER_10_MINUTES,
    SIGNUPS_PER_HOUR,
    TOKENS_PER_HOUR,
)

From = Callable[[str], AbstractAsyncContextManager[AsyncClient]]


@pytest.fixture
def from_address(app: FastAPI) -> From:
    """A client whose requests come from the given address, as uvicorn would report it."""

    @asynccontextmanager
    async def client(address: str) -> AsyncIterator[AsyncClient]:
        transport = ASGITransport(app=app, client=(address, 40000))
        async with AsyncClient(transport=transport, base_url="http://testserver") as made:
            yield made

    return client


def assert_limited(response: Response, *, within: int) -> None:
    """A 429 problem that says when to come back: after a burst, about the whole window
    (``within`` seconds) from now."""
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "rate_limited"
    assert within - 60 <= int(response.headers["Retry-After"]) <= within


async def signup(client: AsyncClient, n: int) -> Response:
    return await client.post(
        "/api/v1/auth/signup",
        json={"email": f"new-{n}@example.com", "name": f"New {n}", "password": PASSWORD},
    )


class TestSignup:
    async def test_one_address_signs_up_so_many_an_hour(self, from_address: From) -> None:
        async with from_address("203.0.113.7") as client:
            answers = [(await signup(client, n)).status_code for n in range(SIGNUPS_PER_HOUR)]
            limited = await signup(client, SIGNUPS_PER_HOUR)
        async with from_address("203.0.113.8") as elsewhere:
            other = await signup(elsewhere, SIGNUPS_PER_HOUR + 1)

        assert answers == [201] * SIGNUPS_PER_HOUR
        assert_limited(limited, within=3600)
        assert other.status_code == 201

    async def test_an_ipv6_client_counts_by_its_64(self, from_address: From) -> None:
        async def from_each(addresses: list[str]) -> list[int]:
            answers = []
            for n, address in enumerate(addresses):
                async with from_address(address) as client:
                    answers.append((await signup(client, n)).status_code)
            return answers

        same_64 = [f"2001:db8:1:2::{n:x}" for n in range(1, SIGNUPS_PER_HOUR + 1)]
        answers = await from_each(same_64)
        async with from_address("2001:db8:1:2:ffff:ffff:ffff:ffff") as client:
            limited = await signup(client, 100)
        async with from_address("2001:db8:1:3::1") as client:
            next_64 = await signup(client, 101)

        assert answers == [201] * SIGNUPS_PER_HOUR
        assert_limited(limited, within=3600)
        assert next_64.status_code == 201

    async def test_ipv4_clients_count_by_the_whole_address(self, from_address: From) -> None:
        answers = []
        for n in range(SIGNUPS_PER_HOUR + 1):
            async with from_address(f"203.0.113.{n + 10}") as client:
                answers.append((await signup(client, n)).status_code)

        assert answers == [201] * (SIGNUPS_PER_HOUR + 1)


class TestLogin:
    async def test_one_address_signs_in_so_many_times(
        self, from_address: From, accounts: Accounts
    ) -> None:
        login = {"email": accounts.bob.user.email, "password": PASSWORD}
        async with from_address("198.51.100.20") as client:
            answers = {
                (await client.post("/api/v1/auth/login", json=login)).status_code
                for _ in range(LOGINS_PER_10_MINUTES)
            }
            # Even with the right password.
            limited = await client.post("/api/v1/auth/login", json=login)
        async with from_address("198.51.100.21") as elsewhere:
            other = await elsewhere.post("/api/v1/auth/login", json=login)

        assert answers == {200}
        assert_limited(limited, within=600)
        assert "ticketdesk_session" not in limited.cookies
        assert other.status_code == 200


class TestLinkRequests:
    @pytest.fixture
    def settings_overrides(self, smtp_server: SmtpServer) -> dict[str, Any]:
        return {"smtp_url": smtp_server.url}

    async def test_one_address_asks_for_so_many_links(self, from_address: From) -> None:
        async with from_address("192.0.2.50") as client:
            for n in range(links.MAX_REQUESTS_PER_IP - 1):
                response = await client.post(
                    "/api/v1/auth/password-reset", json={"email": f"x{n}@example.com"}
                )
                assert response.status_code == 202
            # Confirmation links count with resets.
            last = await client.post(
                "/api/v1/auth/verify-email", json={"email": "someone@example.com"}
            )
            limited = await client.post(
                "/api/v1/auth/password-reset", json={"email": "one-more@example.com"}
            )
        async with from_address("192.0.2.51") as elsewhere:
            other = await elsewhere.post(
                "/api/v1/auth/password-reset", json={"email": "one-more@example.com"}
            )

        assert last.status_code == 202
        assert_limited(limited, within=3600)
        assert other.status_code == 202


class TestTickets:
    async def test_one_account_opens_so_many_tickets_an_hour(self, accounts: Accounts) -> None:
        allowed = Settings().rate_limits.tickets_per_hour
        body = {"type": "bug", "title": "Export fails", "description": "It fails every time."}
        answers = {
            (await accounts.alice.client.post("/api/v1/tickets", json=body)).status_code
            for _ in range(allowed)
        }

        limited = await accounts.alice.client.post("/api/v1/tickets", json=body)
        other = await accounts.bob.client.post("/api/v1/tickets", json=body)

        assert answers == {201}
        assert_limited(limited, within=3600)
        assert other.status_code == 201


class TestTicketReplays:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"rate_limits": {"tickets_per_hour": 2}}

    async def test_a_retried_create_is_answered_and_does_not_count(
        self, accounts: Accounts
    ) -> None:
        client = accounts.alice.client
        body = {"type": "bug", "title": "Export fails", "description": "It fails every time."}
        first = await client.post("/api/v1/tickets", json=body, headers={"Idempotency-Key": "k1"})
        retries = [
            await client.post("/api/v1/tickets", json=body, headers={"Idempotency-Key": "k1"})
            for _ in range(3)
        ]
        second = await client.post("/api/v1/tickets", json=body)
        limited = await client.post("/api/v1/tickets", json=body)
        # At the limit, a retry is still answered.
        retried_at_limit = await client.post(
            "/api/v1/tickets", json=body, headers={"Idempotency-Key": "k1"}
        )

        assert first.status_code == 201
        assert [(r.status_code, r.headers.get("Idempotent-Replayed")) for r in retries] == [
            (201, "true")
        ] * 3
        assert {r.json()["id"] for r in retries} == {first.json()["id"]}
        assert second.status_code == 201
        assert_limited(limited, within=3600)
        assert retried_at_limit.status_code == 201
        assert retried_at_limit.json()["id"] == first.json()["id"]


class TestComments:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"rate_limits": {"comments_per_hour": 5}}

    async def test_one_account_writes_so_many_comments_an_hour(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        url = f"/api/v1/tickets/{ticket.id}/comments"
        answers = [
            (await accounts.agent.client.post(url, json={"comment": f"Reply {n}"})).status_code
            for n in range(5)
        ]

        limited = await accounts.agent.client.post(url, json={"comment": "One more"})
        other = await accounts.alice.client.post(url, json={"comment": "Thanks"})

        assert answers == [201] * 5
        assert_limited(limited, within=3600)
        assert "too many comments" in limited.json()["detail"]
        assert other.status_code == 201

    async def test_replies_to_tickets_one_cannot_see_do_not_count(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        hidden = await create_ticket(conn, accounts.bob)
        mine = await create_ticket(conn, accounts.alice)
        refused = [
            (
                await accounts.alice.client.post(
                    f"/api/v1/tickets/{ticket_id}/comments", json={"comment": "Hello?"}
                )
            ).status_code
            for ticket_id in [hidden.id, "00000000-0000-0000-0000-00000000abcd"] * 3
        ]
        answers = [
            (
                await accounts.alice.client.post(
                    f"/api/v1/tickets/{mine.id}/comments", json={"comment": f"Reply {n}"}
                )
            ).status_code
            for n in range(5)
        ]

        assert refused == [404] * 6
        assert answers == [201] * 5


class TestTokens:
    async def test_one_account_creates_so_many_tokens_an_hour(
        self, accounts: Accounts, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG, logger="ticketdesk")
        answers = [
            (
                await accounts.bob.client.post("/api/v1/me/tokens", json={"name": f"t{n}"})
            ).status_code
            for n in range(TOKENS_PER_HOUR)
        ]

        limited = await accounts.bob.client.post("/api/v1/me/tokens", json={"name": "more"})
        other = await accounts.alice.client.post("/api/v1/me/tokens", json={"name": "mine"})

        assert answers == [201] * TOKENS_PER_HOUR
        assert_limited(limited, within=3600)
        assert other.status_code == 201
        # No Redis configured: nothing to say about it.
        assert "Redis" not in caplog.text
