"""Guessing a password without locking its owner out (OWASP's device cookies), and whose
address a request comes from (``trusted_proxies``).

Wrong passwords for an address lock it for 15 minutes, for every client that has not
signed in to that account before; a browser that has (it holds the account's device
cookie) is held only by its own limit.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response

from tests.factories import PASSWORD, Accounts
from ticketdesk.auth.service import (
    DEVICE_TTL_SECONDS,
    MAX_FAILURES_PER_DEVICE,
    MAX_FAILURES_PER_EMAIL,
    MAX_FAILURES_PER_PAIR,
)
from ticketdesk.rate_limits import SIGNUPS_PER_HOUR

From = Callable[..., AbstractAsyncContextManager[AsyncClient]]


@pytest.fixture
def from_address(app: FastAPI) -> From:
    """A client (keeping cookies, as a browser does) whose requests come from the given
    peer address, optionally sending fixed headers."""

    @asynccontextmanager
    async def client(address: str, **headers: str) -> AsyncIterator[AsyncClient]:
        transport = ASGITransport(app=app, client=(address, 40000))
        async with AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as made:
            yield made

    return client


async def login(client: AsyncClient, email: str, password: str = PASSWORD) -> Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def lock_out(from_address: From, email: str) -> None:
    """Guess ``email``'s password from many clients, until it is locked for new ones."""
    answers = []
    for n in range(MAX_FAILURES_PER_EMAIL // MAX_FAILURES_PER_PAIR + 1):
        async with from_address(f"203.0.113.{n + 1}") as attacker:
            for _ in range(MAX_FAILURES_PER_PAIR):
                answers.append((await login(attacker, email, "guess")).status_code)
    # Each client stays within its own limit: the address's is what stops them.
    assert answers[:MAX_FAILURES_PER_EMAIL] == [401] * MAX_FAILURES_PER_EMAIL
    assert set(answers[MAX_FAILURES_PER_EMAIL:]) == {429}


class TestDeviceCookie:
    async def test_set_on_signing_in(self, from_address: From, accounts: Accounts) -> None:
        async with from_address("198.51.100.1") as browser:
            response = await login(browser, accounts.alice.user.email)

        [cookie] = [
            header.lower()
            for header in response.headers.get_list("set-cookie")
            if header.startswith("ticketdesk_device=")
        ]
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert "path=/api/v1" in cookie
        assert f"max-age={DEVICE_TTL_SECONDS}" in cookie
        assert "secure" not in cookie  # plain http in tests

    async def test_the_owner_signs_in_while_guessers_are_locked_out(
        self, from_address: From, accounts: Accounts
    ) -> None:
        email = accounts.alice.user.email
        async with from_address("198.51.100.1") as owner:
            assert (await login(owner, email)).status_code == 200
            await lock_out(from_address, email)
            async with from_address("198.51.100.99") as newcomer:
                locked = await login(newcomer, email)
            owners_browser = await login(owner, email)

        assert (locked.status_code, locked.json()["code"]) == (429, "rate_limited")
        assert owners_browser.status_code == 200
        assert "ticketdesk_session" in owners_browser.cookies

    async def test_another_accounts_or_a_forged_cookie_does_not_help(
        self, from_address: From, accounts: Accounts
    ) -> None:
        email = accounts.alice.user.email
        async with from_address("198.51.100.2") as bobs_browser:
            assert (await login(bobs_browser, accounts.bob.user.email)).status_code == 200
            bobs_cookie = bobs_browser.cookies["ticketdesk_device"]
        async with from_address("198.51.100.1") as owner:
            assert (await login(owner, email)).status_code == 200
            alices_cookie = owner.cookies["ticketdesk_device"]
        await lock_out(from_address, email)

        user_id, device, issued, signature = alices_cookie.split(".")
        tampered = [
            bobs_cookie,
            f"{user_id}.{device}x.{issued}.{signature}",
            f"{user_id}.{device}.{int(issued) + 1}.{signature}",
            "garbage",
        ]
        answers = []
        for n, cookie in enumerate(tampered):
            async with from_address(f"198.51.100.{n + 10}") as attacker:
                attacker.cookies.set("ticketdesk_device", cookie, path="/api/v1")
                answers.append((await login(attacker, email)).status_code)

        assert answers == [429] * len(tampered)

    async def test_wrong_passwords_from_a_device_count_against_it_alone(
        self, from_address: From, accounts: Accounts
    ) -> None:
        email = accounts.alice.user.email
        async with from_address("198.51.100.1") as owner:
            assert (await login(owner, email)).status_code == 200
            wrong = [
                (await login(owner, email, "typo")).status_code
                for _ in range(MAX_FAILURES_PER_DEVICE)
            ]
            held = await login(owner, email)
            # The same address without the cookie: not held by the device's failures.
            async with from_address("198.51.100.1") as other_browser:
                elsewhere = await login(other_browser, email)

        assert wrong == [401] * MAX_FAILURES_PER_DEVICE
        assert (held.status_code, held.json()["code"]) == (429, "rate_limited")
        assert elsewhere.status_code == 200

    async def test_a_password_change_is_not_held_by_the_lockout(
        self, from_address: From, accounts: Accounts
    ) -> None:
        email = accounts.alice.user.email
        async with from_address("198.51.100.1") as owner:
            me = (await login(owner, email)).json()
            await lock_out(from_address, email)
            changed = await owner.put(
                "/api/v1/me/password",
                json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
                headers={"X-CSRF-Token": me["csrf_token"]},
            )

        assert changed.status_code == 204

    async def test_a_new_password_ends_the_trust_of_devices_given_before(
        self, from_address: From, accounts: Accounts
    ) -> None:
        """Someone who once had the password kept the cookies of their sign-ins; once the
        owner sets a new password, those cookies free no more guesses."""
        email, new_password = accounts.alice.user.email, "a brand new passphrase"
        async with (
            from_address("198.51.100.5") as intruder,
            from_address("198.51.100.1") as owner,
        ):
            assert (await login(intruder, email)).status_code == 200
            me = (await login(owner, email)).json()
            changed = await owner.put(
                "/api/v1/me/password",
                json={"current_password": PASSWORD, "new_password": new_password},
                headers={"X-CSRF-Token": me["csrf_token"]},
            )
            await lock_out(from_address, email)
            intruders_guess = await login(intruder, email, new_password)
            owners_sign_in = await login(owner, email, new_password)

        assert changed.status_code == 204
        assert (intruders_guess.status_code, intruders_guess.json()["code"]) == (
            429,
            "rate_limited",
        )
        assert owners_sign_in.status_code == 200


async def signups(client: AsyncClient, forwarded_for: list[str], who: str = "n") -> list[int]:
    """Sign up once for each ``X-Forwarded-For`` value, each a new address."""
    return [
        (
            await client.post(
                "/api/v1/auth/signup",
                json={"email": f"{who}{n}@example.com", "name": "N", "password": "a long phrase"},
                headers={"X-Forwarded-For": address},
            )
        ).status_code
        for n, address in enumerate(forwarded_for)
    ]


class TestForwardedHeaders:
    async def test_ignored_from_a_peer_not_trusted(self, from_address: From) -> None:
        async with from_address("127.0.0.1") as client:
            answers = await signups(client, [f"203.0.113.{n}" for n in range(SIGNUPS_PER_HOUR + 1)])

        assert answers == [201] * SIGNUPS_PER_HOUR + [429]

    async def test_failed_sign_ins_count_the_peer_not_trusted(
        self, from_address: From, accounts: Accounts
    ) -> None:
        email = accounts.alice.user.email
        answers = []
        async with from_address("127.0.0.1") as client:
            for n in range(MAX_FAILURES_PER_PAIR + 1):
                response = await client.post(
                    "/api/v1/auth/login",
                    json={"email": email, "password": "guess"},
                    headers={"X-Forwarded-For": f"203.0.113.{n}"},
                )
                answers.append(response.status_code)

        assert answers == [401] * MAX_FAILURES_PER_PAIR + [429]


class TestTrustedProxies:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"trusted_proxies": ["10.0.0.0/8"]}

    async def test_the_forwarded_address_is_the_client(self, from_address: From) -> None:
        async with from_address("10.1.2.3") as proxy:
            each_its_own = await signups(
                proxy, [f"203.0.113.{n}" for n in range(SIGNUPS_PER_HOUR + 1)], "a"
            )
            one_client = await signups(proxy, ["198.51.100.7"] * (SIGNUPS_PER_HOUR + 1), "b")

        assert each_its_own == [201] * (SIGNUPS_PER_HOUR + 1)
        assert one_client == [201] * SIGNUPS_PER_HOUR + [429]

    async def test_a_proxy_seen_through_a_dual_stack_socket(self, from_address: From) -> None:
        # Served on ::, a proxy connecting over IPv4 is the peer ::ffff:10.1.2.3.
        async with from_address("::ffff:10.1.2.3") as proxy:
            answers = await signups(
                proxy, [f"203.0.113.{n}" for n in range(SIGNUPS_PER_HOUR + 1)], "c"
            )

        assert answers == [201] * (SIGNUPS_PER_HOUR + 1)

    async def test_the_address_a_client_made_up_is_passed_over(self, from_address: From) -> None:
        # The proxy appends the address it saw; what the client sent before it is not
        # believed.
        async with from_address("10.1.2.3") as proxy:
            answers = await signups(
                proxy,
                [f"192.0.2.{n}, 198.51.100.7" for n in range(SIGNUPS_PER_HOUR + 1)],
            )

        assert answers == [201] * SIGNUPS_PER_HOUR + [429]

    async def test_https_at_the_proxy_makes_cookies_secure(
        self, from_address: From, accounts: Accounts
    ) -> None:
        async with from_address("10.1.2.3", **{"X-Forwarded-Proto": "https"}) as proxy:
            behind = await login(proxy, accounts.alice.user.email)
        async with from_address("192.0.2.1", **{"X-Forwarded-Proto": "https"}) as direct:
            claimed = await login(direct, accounts.bob.user.email)

        assert all("secure" in h.lower() for h in behind.headers.get_list("set-cookie"))
        assert not any("secure" in h.lower() for h in claimed.headers.get_list("set-cookie"))
