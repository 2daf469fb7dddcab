"""Sign-up, sign-in, sessions with CSRF protection, personal access tokens (expiry, scope,
revoked with the token they were made with) and signing out everywhere."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response

from tests.factories import PASSWORD, Accounts, make_user, ticket_body
from ticketdesk import db
from ticketdesk.app import create_app
from ticketdesk.auth import service as auth
from ticketdesk.auth.service import TokenGrant
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.errors import Forbidden, Unauthorized


def _cookies(response: Response) -> dict[str, str]:
    """The Set-Cookie headers of a response, by cookie name, lower-cased."""
    found = {}
    for header in response.headers.get_list("set-cookie"):
        name = header.split("=", 1)[0]
        found[name] = header.lower()
    return found


async def _login(client: AsyncClient, email: str, password: str = PASSWORD) -> Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """A client that keeps cookies, as a browser would, and holds no token."""
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def signed_in_browser(browser: AsyncClient, accounts: Accounts) -> AsyncClient:
    """Alice, signed in with her password: the session lives in the browser's cookies."""
    response = await _login(browser, accounts.alice.user.email)
    assert response.status_code == 200
    return browser


async def _signup(client: AsyncClient, email: str) -> Response:
    return await client.post(
        "/api/v1/auth/signup",
        json={"email": email, "password": "a long passphrase", "name": "Nina"},
    )


async def _ticket_count(conn: Connection) -> int:
    cur = await conn.execute("select count(*) as n from tickets")
    row = await cur.fetchone()
    assert row is not None
    return int(row["n"])


class TestSignup:
    async def test_valid(self, browser: AsyncClient, conn: Connection) -> None:
        response = await browser.post(
            "/api/v1/auth/signup",
            json={"email": "new@example.com", "password": "a long passphrase", "name": "Nina"},
        )

        assert response.status_code == 201
        me = response.json()
        assert me["email"] == "new@example.com"
        assert me["name"] == "Nina"
        assert me["role"] == "user"
        assert me["csrf_token"] == browser.cookies["ticketdesk_csrf"]
        assert (await browser.get("/api/v1/me")).json()["id"] == me["id"]

    async def test_cannot_choose_a_role(self, browser: AsyncClient) -> None:
        response = await browser.post(
            "/api/v1/auth/signup",
            json={
                "email": "sneaky@example.com",
                "password": "a long passphrase",
                "name": "Sneaky",
                "role": "admin",
            },
        )

        login = await browser.post(
            "/api/v1/auth/login",
            json={"email": "sneaky@example.com", "password": "a long passphrase"},
        )

        assert response.status_code == 422
        assert response.json()["field"] == "role"
        assert login.status_code == 401  # no account was made

    async def test_password_stored_as_argon2id(
        self, browser: AsyncClient, conn: Connection
    ) -> None:
        await browser.post(
            "/api/v1/auth/signup",
            json={"email": "hash@example.com", "password": "a long passphrase", "name": "H"},
        )

        cur = await conn.execute("select password_hash from users where email = 'hash@example.com'")
        row = await cur.fetchone()
        assert row is not None
        assert row["password_hash"].startswith("$argon2id$")
        assert "a long passphrase" not in row["password_hash"]

    async def test_email_taken(self, browser: AsyncClient, accounts: Accounts) -> None:
        response = await browser.post(
            "/api/v1/auth/signup",
            json={
                "email": accounts.alice.user.email.upper(),
                "password": "a long passphrase",
                "name": "Alice Again",
            },
        )

        assert response.status_code == 409
        assert response.json()["code"] == "email_taken"
        assert response.json()["field"] == "email"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"email": "not-an-address", "password": "a long passphrase", "name": "N"}, "email"),
            ({"email": "short@example.com", "password": "short", "name": "N"}, "password"),
            ({"email": "noname@example.com", "password": "a long passphrase", "name": ""}, "name"),
        ],
    )
    async def test_invalid(self, browser: AsyncClient, body: dict[str, str], field: str) -> None:
        response = await browser.post("/api/v1/auth/signup", json=body)

        assert response.status_code == 422
        assert response.json()["field"] == field
        assert "ticketdesk_session" not in browser.cookies


class TestSignupAddresses:
    async def test_not_an_address(self, browser: AsyncClient, conn: Connection) -> None:
        response = await _signup(browser, "not-an-address")

        assert response.status_code == 422
        assert response.json()["code"] == "bad_email"
        assert response.json()["errors"] == [
            {
                "field": "email",
                "code": "bad_email",
                "message": "An email address must have an @-sign.",
            }
        ]

    @pytest.mark.parametrize("address", ["it@corp.local", "it@intranet", "it@lab.test"])
    async def test_internal_domains_are_refused_by_default(
        self, browser: AsyncClient, conn: Connection, address: str
    ) -> None:
        response = await _signup(browser, address)

        assert response.status_code == 422
        problem = response.json()
        assert problem["code"] == "email_domain_not_public"
        assert problem["field"] == "email"
        domain = address.split("@")[1]
        assert problem["detail"] == (
            f"{domain} is not a public e-mail domain. Use another address, or ask an admin "
            "to accept it as an internal domain."
        )
        assert "special-use" not in response.text
        cur = await conn.execute("select count(*) as n from users")
        assert (await cur.fetchone()) == {"n": 0}

    async def test_addresses_are_normalised(self, browser: AsyncClient) -> None:
        response = await _signup(browser, "Nina@Example.COM")

        assert response.json()["email"] == "Nina@example.com"


class TestSignupWithInternalDomains:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"internal_email_domains": ["corp.local"]}

    @pytest.mark.parametrize("address", ["it@corp.local", "it@eu.corp.local", "it@example.com"])
    async def test_accepted(self, browser: AsyncClient, address: str) -> None:
        response = await _signup(browser, address)

        assert response.status_code == 201, response.text
        assert response.json()["email"] == address

    @pytest.mark.parametrize("address", ["it@notcorp.local", "it@corp.localhost"])
    async def test_only_those_domains(self, browser: AsyncClient, address: str) -> None:
        response = await _signup(browser, address)

        assert response.status_code == 422
        assert response.json()["code"] == "email_domain_not_public"

    async def test_admins_create_accounts_there_too(self, accounts: Accounts) -> None:
        response = await accounts.admin.client.post(
            "/api/v1/users",
            json={"email": "ops@corp.local", "name": "Ops", "password": "a long passphrase"},
        )

        assert response.status_code == 201
        assert response.json()["email"] == "ops@corp.local"


class TestSignupSwitchedOff:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"signup_enabled": False}

    async def test_refused(self, browser: AsyncClient, conn: Connection) -> None:
        response = await browser.post(
            "/api/v1/auth/signup",
            json={"email": "new@example.com", "password": "a long passphrase", "name": "Nina"},
        )

        assert response.status_code == 403
        assert response.json()["code"] == "signup_disabled"
        cur = await conn.execute("select 1 from users where email = 'new@example.com'")
        assert await cur.fetchone() is None


class TestLogin:
    async def test_valid(self, browser: AsyncClient, accounts: Accounts) -> None:
        response = await _login(browser, accounts.alice.user.email)

        assert response.status_code == 200
        assert response.json()["id"] == str(accounts.alice.user.id)
        cookies = _cookies(response)
        session = cookies["ticketdesk_session"]
        assert "httponly" in session
        assert "samesite=lax" in session
        assert "secure" not in session  # plain http in tests
        csrf = cookies["ticketdesk_csrf"]
        assert "httponly" not in csrf
        assert "samesite=lax" in csrf
        assert response.json()["csrf_token"] == browser.cookies["ticketdesk_csrf"]

    async def test_email_is_case_insensitive(
        self, browser: AsyncClient, accounts: Accounts
    ) -> None:
        response = await _login(browser, accounts.alice.user.email.upper())

        assert response.status_code == 200

    async def test_wrong_password(self, browser: AsyncClient, accounts: Accounts) -> None:
        response = await _login(browser, accounts.alice.user.email, "not the password")

        assert response.status_code == 401
        assert response.json()["code"] == "invalid_credentials"
        assert "ticketdesk_session" not in browser.cookies

    async def test_unknown_email_looks_the_same(
        self, browser: AsyncClient, accounts: Accounts
    ) -> None:
        unknown = await _login(browser, "nobody@example.com", "not the password")
        wrong = await _login(browser, accounts.alice.user.email, "not the password")

        assert unknown.status_code == wrong.status_code == 401
        assert unknown.json()["detail"] == wrong.json()["detail"]

    async def test_deactivated_account(self, browser: AsyncClient, accounts: Accounts) -> None:
        await accounts.admin.client.patch(
            f"/api/v1/users/{accounts.alice.user.id}", json={"is_active": False}
        )

        response = await _login(browser, accounts.alice.user.email)

        assert response.status_code == 401

    async def test_system_account_cannot_sign_in(
        self, browser: AsyncClient, conn: Connection
    ) -> None:
        from ticketdesk.users.service import GITHUB_SYSTEM_EMAIL, github_system_user

        await github_system_user(conn)

        response = await _login(browser, GITHUB_SYSTEM_EMAIL, "")

        assert response.status_code == 401


class TestLoginRateLimit:
    async def test_sixth_failed_attempt_is_refused(
        self, browser: AsyncClient, accounts: Accounts
    ) -> None:
        email = accounts.alice.user.email
        for _ in range(5):
            assert (await _login(browser, email, "guess")).status_code == 401

        response = await _login(browser, email, "guess")

        assert response.status_code == 429
        assert response.json()["code"] == "rate_limited"
        assert int(response.headers["Retry-After"]) > 0

    async def test_even_the_right_password_waits(
        self, browser: AsyncClient, accounts: Accounts
    ) -> None:
        email = accounts.alice.user.email
        for _ in range(5):
            await _login(browser, email, "guess")

        response = await _login(browser, email)

        assert response.status_code == 429
        assert "ticketdesk_session" not in browser.cookies

    async def test_other_accounts_unaffected(
        self, browser: AsyncClient, accounts: Accounts
    ) -> None:
        for _ in range(6):
            await _login(browser, accounts.alice.user.email, "guess")

        response = await _login(browser, accounts.bob.user.email)

        assert response.status_code == 200

    async def test_success_clears_the_count(self, browser: AsyncClient, accounts: Accounts) -> None:
        email = accounts.alice.user.email
        for _ in range(4):
            await _login(browser, email, "guess")
        assert (await _login(browser, email)).status_code == 200
        for _ in range(4):
            await _login(browser, email, "guess")

        response = await _login(browser, email)

        assert response.status_code == 200

    async def test_one_client_guessing_many_accounts(self, browser: AsyncClient) -> None:
        for n in range(30):
            assert (await _login(browser, f"guess{n}@example.com", "guess")).status_code == 401

        response = await _login(browser, "guess-final@example.com", "guess")

        assert response.status_code == 429


class TestSecureCookies:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"base_url": "https://desk.example.com"}

    async def test_secure_behind_https(self, browser: AsyncClient, accounts: Accounts) -> None:
        response = await _login(browser, accounts.alice.user.email)

        cookies = _cookies(response)
        assert "secure" in cookies["ticketdesk_session"]
        assert "secure" in cookies["ticketdesk_csrf"]


class TestLogout:
    async def test_anonymous(self, anon: AsyncClient) -> None:
        assert (await anon.post("/api/v1/auth/logout")).status_code == 401

    async def test_ends_the_session(self, signed_in_browser: AsyncClient) -> None:
        browser = signed_in_browser
        session = browser.cookies["ticketdesk_session"]
        csrf = browser.cookies["ticketdesk_csrf"]

        response = await browser.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})

        assert response.status_code == 204
        assert "ticketdesk_session" not in browser.cookies
        assert (await browser.get("/api/v1/me")).status_code == 401
        # The old cookie, replayed, is no longer a session.
        browser.cookies.set("ticketdesk_session", session)
        assert (await browser.get("/api/v1/me")).status_code == 401

    async def test_needs_the_csrf_token(self, signed_in_browser: AsyncClient) -> None:
        response = await signed_in_browser.post("/api/v1/auth/logout")

        assert response.status_code == 403
        assert (await signed_in_browser.get("/api/v1/me")).status_code == 200

    async def test_with_a_token(self, accounts: Accounts) -> None:
        response = await accounts.alice.client.post("/api/v1/auth/logout")

        assert response.status_code == 204


class TestMe:
    async def test_anonymous(self, anon: AsyncClient) -> None:
        response = await anon.get("/api/v1/me")

        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"

    async def test_with_a_token(self, accounts: Accounts) -> None:
        response = await accounts.agent.client.get("/api/v1/me")

        assert response.status_code == 200
        assert response.json() == {
            "id": str(accounts.agent.user.id),
            "email": accounts.agent.user.email,
            "name": "Aaron Agent",
            "role": "agent",
            "csrf_token": None,
        }

    async def test_with_the_session_cookie(self, signed_in_browser: AsyncClient) -> None:
        response = await signed_in_browser.get("/api/v1/me")

        assert response.status_code == 200
        assert response.json()["csrf_token"] == signed_in_browser.cookies["ticketdesk_csrf"]

    async def test_forged_session_cookie(self, browser: AsyncClient) -> None:
        browser.cookies.set("ticketdesk_session", "forged")

        response = await browser.get("/api/v1/me")

        assert response.status_code == 401

    async def test_garbage_token(self, anon: AsyncClient) -> None:
        response = await anon.get("/api/v1/me", headers={"Authorization": "Bearer tdpat_nope"})

        assert response.status_code == 401
        assert response.json()["code"] == "invalid_token"


class TestCsrf:
    async def test_missing_header(self, signed_in_browser: AsyncClient, conn: Connection) -> None:
        response = await signed_in_browser.post("/api/v1/tickets", json=ticket_body())

        assert response.status_code == 403
        assert response.json()["code"] == "csrf_failed"
        assert await _ticket_count(conn) == 0

    async def test_wrong_header(self, signed_in_browser: AsyncClient, conn: Connection) -> None:
        response = await signed_in_browser.post(
            "/api/v1/tickets", json=ticket_body(), headers={"X-CSRF-Token": "guessed"}
        )

        assert response.status_code == 403
        assert await _ticket_count(conn) == 0

    async def test_another_sessions_token(
        self, app: FastAPI, signed_in_browser: AsyncClient, accounts: Accounts, conn: Connection
    ) -> None:
        async with AsyncClient(
            transport=ASGITransport(app=app), base_url="http://testserver"
        ) as other:
            await _login(other, accounts.bob.user.email)
            bobs_token = other.cookies["ticketdesk_csrf"]

        response = await signed_in_browser.post(
            "/api/v1/tickets", json=ticket_body(), headers={"X-CSRF-Token": bobs_token}
        )

        assert response.status_code == 403
        assert await _ticket_count(conn) == 0

    async def test_correct_header(self, signed_in_browser: AsyncClient, conn: Connection) -> None:
        response = await signed_in_browser.post(
            "/api/v1/tickets",
            json=ticket_body(),
            headers={"X-CSRF-Token": signed_in_browser.cookies["ticketdesk_csrf"]},
        )

        assert response.status_code == 201
        assert await _ticket_count(conn) == 1

    async def test_safe_requests_need_none(self, signed_in_browser: AsyncClient) -> None:
        assert (await signed_in_browser.get("/api/v1/tickets")).status_code == 200

    async def test_bearer_requests_need_none(self, accounts: Accounts) -> None:
        response = await accounts.alice.client.post("/api/v1/tickets", json=ticket_body())

        assert response.status_code == 201


class TestTokens:
    async def test_anonymous(self, anon: AsyncClient) -> None:
        assert (await anon.get("/api/v1/me/tokens")).status_code == 401
        assert (await anon.post("/api/v1/me/tokens", json={"name": "ci"})).status_code == 401

    async def test_secret_shown_once(
        self,
        signed_in_browser: AsyncClient,
        anon: AsyncClient,
        accounts: Accounts,
        conn: Connection,
    ) -> None:
        csrf = {"X-CSRF-Token": signed_in_browser.cookies["ticketdesk_csrf"]}

        created = await signed_in_browser.post(
            "/api/v1/me/tokens", json={"name": "ci"}, headers=csrf
        )

        assert created.status_code == 201
        secret = created.json()["token"]
        assert secret.startswith("tdpat_")
        assert secret.startswith(created.json()["prefix"])
        listed = await signed_in_browser.get("/api/v1/me/tokens")
        assert "ci" in [t["name"] for t in listed.json()]
        assert secret not in listed.text
        assert "token" not in listed.json()[0]
        # Stored only as a hash.
        cur = await conn.execute("select t::text as row from api_tokens t")
        assert all(secret not in row["row"] for row in await cur.fetchall())
        me = await anon.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.status_code == 200
        assert me.json()["id"] == str(accounts.alice.user.id)

    async def test_works_on_every_route_as_its_owner(
        self, accounts: Accounts, anon: AsyncClient
    ) -> None:
        created = await accounts.agent.client.post("/api/v1/me/tokens", json={"name": "ci"})
        bearer = {"Authorization": f"Bearer {created.json()['token']}"}

        me = await anon.get("/api/v1/me", headers=bearer)
        ticket = await anon.post("/api/v1/tickets", json=ticket_body(), headers=bearer)

        assert me.json()["id"] == str(accounts.agent.user.id)
        assert ticket.status_code == 201
        assert ticket.json()["user_id"] == str(accounts.agent.user.id)

    async def test_last_used(self, accounts: Accounts, anon: AsyncClient) -> None:
        created = await accounts.alice.client.post("/api/v1/me/tokens", json={"name": "ci"})
        assert created.json()["last_used_at"] is None

        await anon.get("/api/v1/me", headers={"Authorization": f"Bearer {created.json()['token']}"})

        listed = await accounts.alice.client.get("/api/v1/me/tokens")
        [ci] = [t for t in listed.json() if t["name"] == "ci"]
        assert ci["last_used_at"] is not None

    async def test_last_used_by_a_refused_request(
        self, accounts: Accounts, anon: AsyncClient
    ) -> None:
        # Whoever holds a token is seen using it, even where nothing they ask is found.
        created = await accounts.alice.client.post("/api/v1/me/tokens", json={"name": "ci"})
        bearer = {"Authorization": f"Bearer {created.json()['token']}"}

        missing = await anon.get("/api/v1/tickets/999999", headers=bearer)

        assert missing.status_code == 404
        listed = await accounts.alice.client.get("/api/v1/me/tokens")
        [ci] = [t for t in listed.json() if t["name"] == "ci"]
        assert ci["last_used_at"] is not None

    async def test_a_password_change_with_a_new_token(
        self, accounts: Accounts, anon: AsyncClient
    ) -> None:
        # The change revokes the token it is made with, on a connection of its own.
        created = await accounts.alice.client.post("/api/v1/me/tokens", json={"name": "ci"})
        bearer = {"Authorization": f"Bearer {created.json()['token']}"}

        changed = await anon.put(
            "/api/v1/me/password",
            json={"current_password": PASSWORD, "new_password": "another long passphrase"},
            headers=bearer,
        )

        assert changed.status_code == 204
        assert (await anon.get("/api/v1/me", headers=bearer)).status_code == 401

    async def test_first_uses_that_fill_the_pool(
        self, settings: Settings, database_url: str, conn: Connection
    ) -> None:
        # Tokens used for the first time, as many at once as the pool has connections:
        # each request records the use without needing a second connection.
        owners = [await make_user(conn) for _ in range(4)]
        tokens = [(await auth.create_token(conn, owner.id, "ci")).token for owner in owners]
        pool = await db.open_pool(database_url, min_size=2, max_size=2, wait_seconds=5)
        app = create_app(settings, pool=pool)
        try:
            async with (
                app.router.lifespan_context(app),
                AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as c,
            ):
                answers = await asyncio.gather(
                    *(
                        c.post(
                            "/api/v1/tickets",
                            json=ticket_body(),
                            headers={"Authorization": f"Bearer {token}"},
                        )
                        for token in tokens
                    )
                )
        finally:
            await pool.close()

        assert [a.status_code for a in answers] == [201] * 4
        cur = await conn.execute(
            "select count(*) as n from api_tokens where last_used_at is not null"
        )
        assert await cur.fetchone() == {"n": 4}

    async def test_revoke(self, accounts: Accounts, anon: AsyncClient) -> None:
        created = (
            await accounts.alice.client.post("/api/v1/me/tokens", json={"name": "ci"})
        ).json()
        bearer = {"Authorization": f"Bearer {created['token']}"}

        response = await accounts.alice.client.delete(f"/api/v1/me/tokens/{created['id']}")

        assert response.status_code == 204
        refused = await anon.get("/api/v1/me", headers=bearer)
        assert refused.status_code == 401
        assert refused.json()["code"] == "invalid_token"
        listed = await accounts.alice.client.get("/api/v1/me/tokens")
        assert created["id"] not in listed.text
        again = await accounts.alice.client.delete(f"/api/v1/me/tokens/{created['id']}")
        assert again.status_code == 404

    async def test_other_users_token(self, accounts: Accounts, anon: AsyncClient) -> None:
        created = (
            await accounts.alice.client.post("/api/v1/me/tokens", json={"name": "ci"})
        ).json()

        response = await accounts.bob.client.delete(f"/api/v1/me/tokens/{created['id']}")

        assert response.status_code == 404
        still = await anon.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {created['token']}"}
        )
        assert still.status_code == 200

    async def test_invalid_name(self, accounts: Accounts) -> None:
        response = await accounts.alice.client.post("/api/v1/me/tokens", json={"name": ""})

        assert response.status_code == 422
        assert response.json()["field"] == "name"

    async def test_deactivated_owner(self, accounts: Accounts) -> None:
        await accounts.admin.client.patch(
            f"/api/v1/users/{accounts.alice.user.id}", json={"is_active": False}
        )

        assert (await accounts.alice.client.get("/api/v1/me")).status_code == 401


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _in(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def _make_token(client: AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/me/tokens", json={"name": "made", **body})
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def _token_count(conn: Connection) -> int:
    cur = await conn.execute("select count(*) as n from api_tokens")
    row = await cur.fetchone()
    assert row is not None
    return int(row["n"])


class TestTokenExpiry:
    async def test_never_by_default(self, accounts: Accounts) -> None:
        made = await _make_token(accounts.alice.client)

        assert made["expires_at"] is None
        assert made["scope"] == "write"

    async def test_listed_with_its_expiry(self, accounts: Accounts, anon: AsyncClient) -> None:
        ends = datetime.now(UTC) + timedelta(days=30)

        made = await _make_token(accounts.alice.client, expires_at=ends.isoformat())

        assert datetime.fromisoformat(made["expires_at"]) == ends
        listed = await accounts.alice.client.get("/api/v1/me/tokens")
        [shown] = [t for t in listed.json() if t["id"] == made["id"]]
        assert datetime.fromisoformat(shown["expires_at"]) == ends
        assert (await anon.get("/api/v1/me", headers=_bearer(made["token"]))).status_code == 200

    @pytest.mark.parametrize(
        ("expires_at", "message"),
        [
            ("2020-01-01T00:00:00Z", "in the future"),
            (_in(367), "at most 366 days ahead"),
            ("2030-01-01T00:00:00", "timezone"),
            ("soon", "datetime"),
        ],
        ids=["past", "over-a-year", "no-timezone", "not-a-time"],
    )
    async def test_refused(
        self, accounts: Accounts, conn: Connection, expires_at: str, message: str
    ) -> None:
        before = await _token_count(conn)

        response = await accounts.alice.client.post(
            "/api/v1/me/tokens", json={"name": "ci", "expires_at": expires_at}
        )

        assert response.status_code == 422
        assert response.json()["field"] == "expires_at"
        assert message in response.json()["detail"]
        assert await _token_count(conn) == before

    async def test_expired_token_is_refused(
        self, accounts: Accounts, anon: AsyncClient, conn: Connection
    ) -> None:
        # As if its time had passed: the API takes only future expiries.
        async with conn.transaction():
            made = await auth.create_token(
                conn,
                accounts.alice.user.id,
                "old",
                expires_at=datetime.now(UTC) - timedelta(seconds=1),
            )

        response = await anon.get("/api/v1/me", headers=_bearer(made.token))

        assert response.status_code == 401
        assert response.json()["code"] == "invalid_token"
        # Still listed, with the expiry that shows why it stopped working.
        listed = await accounts.alice.client.get("/api/v1/me/tokens")
        [shown] = [t for t in listed.json() if t["id"] == str(made.id)]
        assert datetime.fromisoformat(shown["expires_at"]) < datetime.now(UTC)


class TestReadOnlyTokens:
    @pytest.fixture
    async def reader(self, app: FastAPI, accounts: Accounts) -> AsyncIterator[AsyncClient]:
        """Alice, with a read-only token she made."""
        made = await _make_token(accounts.alice.client, scope="read")
        assert made["scope"] == "read"
        async with AsyncClient(
            transport=ASGITransport(app=app),
            base_url="http://testserver",
            headers=_bearer(made["token"]),
        ) as client:
            yield client

    async def test_reads(self, reader: AsyncClient, accounts: Accounts) -> None:
        ticket = await accounts.alice.client.post("/api/v1/tickets", json=ticket_body())

        me = await reader.get("/api/v1/me")
        listed = await reader.get("/api/v1/tickets")
        shown = await reader.get(f"/api/v1/tickets/{ticket.json()['id']}")

        assert me.json()["id"] == str(accounts.alice.user.id)
        assert [t["id"] for t in listed.json()["items"]] == [ticket.json()["id"]]
        assert shown.status_code == 200

    async def test_writes_refused(
        self, reader: AsyncClient, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = (await accounts.alice.client.post("/api/v1/tickets", json=ticket_body())).json()
        [own] = [t for t in (await reader.get("/api/v1/me/tokens")).json() if t["scope"] == "read"]

        responses = [
            await reader.post("/api/v1/tickets", json=ticket_body(title="Another export bug")),
            await reader.put(f"/api/v1/tickets/{ticket['id']}", json={"title": "Retitled ticket"}),
            await reader.post(f"/api/v1/tickets/{ticket['id']}/comments", json={"comment": "Hi"}),
            await reader.patch("/api/v1/me", json={"name": "Mallory"}),
            await reader.delete(f"/api/v1/me/tokens/{own['id']}"),
            await reader.post("/api/v1/auth/logout-everywhere", json={"revoke_tokens": True}),
        ]

        assert [r.status_code for r in responses] == [403] * len(responses)
        assert {r.json()["code"] for r in responses} == {"read_only_token"}
        assert {r.headers["content-type"] for r in responses} == {"application/problem+json"}
        assert await _ticket_count(conn) == 1
        shown = (await accounts.alice.client.get(f"/api/v1/tickets/{ticket['id']}")).json()
        assert shown["title"] == ticket["title"]
        assert (await reader.get("/api/v1/me")).json()["name"] == "Alice Submitter"

    async def test_cannot_make_tokens(self, reader: AsyncClient, conn: Connection) -> None:
        before = await _token_count(conn)

        for scope in ("read", "write"):
            response = await reader.post("/api/v1/me/tokens", json={"name": "x", "scope": scope})
            assert response.status_code == 403
            assert response.json()["code"] == "read_only_token"
        assert await _token_count(conn) == before

    async def test_unknown_scope(self, accounts: Accounts) -> None:
        response = await accounts.alice.client.post(
            "/api/v1/me/tokens", json={"name": "ci", "scope": "admin"}
        )

        assert response.status_code == 422
        assert response.json()["field"] == "scope"

    async def test_a_read_only_parent_makes_no_wider_child(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        # Behind the gate that refuses a read-only token every POST, the rule itself.
        async with conn.transaction():
            parent = await auth.create_token(conn, accounts.alice.user.id, "p", scope="read")
            grant = TokenGrant(id=parent.id, scope="read", expires_at=None)
            with pytest.raises(Forbidden) as refused:
                await auth.create_token(conn, accounts.alice.user.id, "c", parent=grant)
            child = await auth.create_token(
                conn, accounts.alice.user.id, "c", scope="read", parent=grant
            )

        assert (refused.value.code, refused.value.field) == ("exceeds_parent_token", "scope")
        assert child.parent_id == parent.id


class TestTokensMadeWithTokens:
    async def test_record_their_parent(self, accounts: Accounts, anon: AsyncClient) -> None:
        parent = await _make_token(accounts.alice.client)
        child = await _make_token_with(anon, parent["token"])

        assert child["parent_id"] == parent["id"]
        listed = (await accounts.alice.client.get("/api/v1/me/tokens")).json()
        assert {t["id"]: t["parent_id"] for t in listed}[child["id"]] == parent["id"]

    async def test_revoked_with_their_parent(self, accounts: Accounts, anon: AsyncClient) -> None:
        parent = await _make_token(accounts.alice.client, name="parent")
        child = await _make_token_with(anon, parent["token"], name="child")
        grandchild = await _make_token_with(anon, child["token"], name="grandchild")
        sibling = await _make_token(accounts.alice.client, name="sibling")

        response = await accounts.alice.client.delete(f"/api/v1/me/tokens/{parent['id']}")

        assert response.status_code == 204
        for gone in (parent, child, grandchild):
            refused = await anon.get("/api/v1/me", headers=_bearer(gone["token"]))
            assert refused.status_code == 401, gone["name"]
        assert (await anon.get("/api/v1/me", headers=_bearer(sibling["token"]))).status_code == 200
        listed = {t["name"] for t in (await accounts.alice.client.get("/api/v1/me/tokens")).json()}
        assert "sibling" in listed
        assert listed.isdisjoint({"parent", "child", "grandchild"})

    async def test_revoking_a_child_leaves_its_parent(
        self, accounts: Accounts, anon: AsyncClient
    ) -> None:
        parent = await _make_token(accounts.alice.client)
        child = await _make_token_with(anon, parent["token"])

        await accounts.alice.client.delete(f"/api/v1/me/tokens/{child['id']}")

        assert (await anon.get("/api/v1/me", headers=_bearer(child["token"]))).status_code == 401
        assert (await anon.get("/api/v1/me", headers=_bearer(parent["token"]))).status_code == 200

    async def test_may_not_outlive_their_parent(
        self, accounts: Accounts, anon: AsyncClient, conn: Connection
    ) -> None:
        parent = await _make_token(accounts.alice.client, expires_at=_in(30))
        before = await _token_count(conn)

        for expires_at in (None, _in(31)):
            response = await anon.post(
                "/api/v1/me/tokens",
                json={"name": "longer", "expires_at": expires_at},
                headers=_bearer(parent["token"]),
            )
            assert response.status_code == 403
            assert response.json()["code"] == "exceeds_parent_token"
            assert response.json()["field"] == "expires_at"
        assert await _token_count(conn) == before
        shorter = await _make_token_with(anon, parent["token"], expires_at=_in(7))
        assert shorter["parent_id"] == parent["id"]

    async def test_a_read_only_child_of_a_write_token(
        self, accounts: Accounts, anon: AsyncClient
    ) -> None:
        parent = await _make_token(accounts.alice.client)

        child = await _make_token_with(anon, parent["token"], scope="read")

        assert child["scope"] == "read"
        reads = await anon.get("/api/v1/me", headers=_bearer(child["token"]))
        writes = await anon.patch(
            "/api/v1/me", json={"name": "Mallory"}, headers=_bearer(child["token"])
        )
        assert reads.json()["name"] == "Alice Submitter"
        assert (writes.status_code, writes.json()["code"]) == (403, "read_only_token")

    async def test_made_in_a_session_outlive_it(
        self, signed_in_browser: AsyncClient, anon: AsyncClient
    ) -> None:
        csrf = {"X-CSRF-Token": signed_in_browser.cookies["ticketdesk_csrf"]}
        made = await signed_in_browser.post("/api/v1/me/tokens", json={"name": "ci"}, headers=csrf)

        await signed_in_browser.post("/api/v1/auth/logout", headers=csrf)

        assert made.json()["parent_id"] is None
        assert (
            await anon.get("/api/v1/me", headers=_bearer(made.json()["token"]))
        ).status_code == 200


class TestRevokingWhileATokenIsMade:
    """A token made with another just as that one is revoked never outlives it."""

    @pytest.fixture
    async def other(self, database_url: str) -> AsyncIterator[Connection]:
        async with await psycopg.AsyncConnection.connect(
            database_url, autocommit=True, row_factory=psycopg.rows.dict_row
        ) as connection:
            yield connection

    async def test_made_first(
        self, accounts: Accounts, conn: Connection, other: Connection, anon: AsyncClient
    ) -> None:
        alice = accounts.alice.user.id
        parent = await auth.create_token(conn, alice, "parent")
        grant = TokenGrant(id=parent.id, scope="write", expires_at=None)

        async with conn.transaction():
            child = await auth.create_token(conn, alice, "child", parent=grant)
            revoking = asyncio.create_task(_revoke(other, alice, parent.id))
            await _waiting_for_a_lock(conn, other.info.backend_pid)
        await revoking

        assert (await anon.get("/api/v1/me", headers=_bearer(child.token))).status_code == 401

    async def test_revoked_first(
        self, accounts: Accounts, conn: Connection, other: Connection
    ) -> None:
        alice = accounts.alice.user.id
        parent = await auth.create_token(conn, alice, "parent")
        grant = TokenGrant(id=parent.id, scope="write", expires_at=None)

        async with conn.transaction():
            await auth.revoke_token(conn, alice, parent.id)
            making = asyncio.create_task(_make(other, alice, grant))
            await _waiting_for_a_lock(conn, other.info.backend_pid)
        with pytest.raises(Unauthorized):
            await making

        assert await _token_count(conn) == 4 + 1  # the cast's and the parent


async def _revoke(conn: Connection, user_id: UUID, token_id: UUID) -> None:
    async with conn.transaction():
        await auth.revoke_token(conn, user_id, token_id)


async def _make(conn: Connection, user_id: UUID, parent: TokenGrant) -> None:
    async with conn.transaction():
        await auth.create_token(conn, user_id, "child", parent=parent)


async def _waiting_for_a_lock(conn: Connection, pid: int) -> None:
    async with asyncio.timeout(10):
        while True:
            cur = await conn.execute(
                "select wait_event_type from pg_stat_activity where pid = %s", (pid,)
            )
            row = await cur.fetchone()
            if row is not None and row["wait_event_type"] == "Lock":
                return
            await asyncio.sleep(0.01)


async def _make_token_with(client: AsyncClient, token: str, **body: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/me/tokens", json={"name": "made", **body}, headers=_bearer(token)
    )
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


class TestLogoutEverywhere:
    async def test_anonymous(self, anon: AsyncClient) -> None:
        assert (await anon.post("/api/v1/auth/logout-everywhere")).status_code == 401

    async def test_needs_the_csrf_token(self, signed_in_browser: AsyncClient) -> None:
        response = await signed_in_browser.post("/api/v1/auth/logout-everywhere")

        assert response.status_code == 403
        assert (await signed_in_browser.get("/api/v1/me")).status_code == 200

    async def test_ends_every_session_but_keeps_tokens(
        self, app: FastAPI, signed_in_browser: AsyncClient, accounts: Accounts, anon: AsyncClient
    ) -> None:
        async with (
            AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as phone,
            AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as bobs,
        ):
            await _login(phone, accounts.alice.user.email)
            await _login(bobs, accounts.bob.user.email)
            made = await _make_token(accounts.alice.client)
            csrf = {"X-CSRF-Token": signed_in_browser.cookies["ticketdesk_csrf"]}

            response = await signed_in_browser.post("/api/v1/auth/logout-everywhere", headers=csrf)

            assert response.status_code == 200
            assert response.json() == {"sessions_ended": 2, "tokens_revoked": 0}
            assert "ticketdesk_session" not in signed_in_browser.cookies
            assert (await signed_in_browser.get("/api/v1/me")).status_code == 401
            assert (await phone.get("/api/v1/me")).status_code == 401
            # Nobody else is signed out.
            assert (await bobs.get("/api/v1/me")).status_code == 200
        assert (await anon.get("/api/v1/me", headers=_bearer(made["token"]))).status_code == 200

    async def test_counts_only_sessions_still_live(
        self, signed_in_browser: AsyncClient, accounts: Accounts, conn: Connection
    ) -> None:
        # A session from long ago, expired but never purged: not one the person still had.
        await conn.execute(
            "insert into sessions (token_hash, user_id, csrf_token, expires_at)"
            " values (%s, %s, 'x', now() - interval '1 day')",
            (b"expired session hash", accounts.alice.user.id),
        )
        csrf = {"X-CSRF-Token": signed_in_browser.cookies["ticketdesk_csrf"]}

        response = await signed_in_browser.post("/api/v1/auth/logout-everywhere", headers=csrf)

        assert response.json() == {"sessions_ended": 1, "tokens_revoked": 0}
        cur = await conn.execute(
            "select count(*) as n from sessions where user_id = %s", (accounts.alice.user.id,)
        )
        assert await cur.fetchone() == {"n": 0}

    async def test_with_tokens(
        self, signed_in_browser: AsyncClient, accounts: Accounts, anon: AsyncClient
    ) -> None:
        parent = await _make_token(accounts.alice.client)
        child = await _make_token_with(anon, parent["token"])
        csrf = {"X-CSRF-Token": signed_in_browser.cookies["ticketdesk_csrf"]}

        response = await signed_in_browser.post(
            "/api/v1/auth/logout-everywhere", json={"revoke_tokens": True}, headers=csrf
        )

        # The cast's own token, and the two above.
        assert response.json() == {"sessions_ended": 1, "tokens_revoked": 3}
        for token in (parent, child):
            assert (
                await anon.get("/api/v1/me", headers=_bearer(token["token"]))
            ).status_code == 401
        assert (await accounts.alice.client.get("/api/v1/me")).status_code == 401
        assert (await accounts.bob.client.get("/api/v1/me")).status_code == 200

    async def test_with_a_token(self, signed_in_browser: AsyncClient, accounts: Accounts) -> None:
        response = await accounts.alice.client.post("/api/v1/auth/logout-everywhere")

        assert response.json() == {"sessions_ended": 1, "tokens_revoked": 0}
        assert (await signed_in_browser.get("/api/v1/me")).status_code == 401
        assert (await accounts.alice.client.get("/api/v1/me")).status_code == 200
