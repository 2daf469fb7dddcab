"""Sign-up, sign-in, sessions with CSRF protection, and personal access tokens."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response

from tests.factories import PASSWORD, Accounts, ticket_body
from ticketdesk.db import Connection


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
