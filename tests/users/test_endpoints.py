"""Accounts: staff look people up, admins create them and change roles and access."""

from typing import Any

from httpx import AsyncClient

from tests.factories import PASSWORD, Accounts, create_ticket, make_user
from ticketdesk.db import Connection
from ticketdesk.users.service import github_system_user

USERS = "/api/v1/users"


def _new_user(**overrides: Any) -> dict[str, Any]:
    return {
        "email": "carol@example.com",
        "name": "Carol Agent",
        "password": "a long passphrase",
        "role": "agent",
        **overrides,
    }


class TestListUsers:
    async def test_anonymous(self, anon: AsyncClient) -> None:
        assert (await anon.get(USERS)).status_code == 401

    async def test_submitter(self, accounts: Accounts) -> None:
        response = await accounts.alice.client.get(USERS)

        assert response.status_code == 403
        assert accounts.bob.user.email not in response.text

    async def test_valid(self, accounts: Accounts, conn: Connection) -> None:
        await github_system_user(conn)

        response = await accounts.agent.client.get(USERS)

        assert response.status_code == 200
        emails = [u["email"] for u in response.json()["items"]]
        assert emails == sorted(emails)
        assert set(emails) == {
            p.user.email for p in (accounts.admin, accounts.agent, accounts.alice, accounts.bob)
        }

    async def test_by_role(self, accounts: Accounts) -> None:
        response = await accounts.agent.client.get(USERS, params={"role": "agent"})

        assert [u["name"] for u in response.json()["items"]] == ["Aaron Agent"]

    async def test_pages(self, accounts: Accounts, conn: Connection) -> None:
        for n in range(3):
            await make_user(conn, name=f"Extra{n} Person")

        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await accounts.admin.client.get(USERS, params=params)).json()
            seen += [u["id"] for u in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break

        assert len(seen) == len(set(seen)) == 7

    async def test_invalid(self, accounts: Accounts) -> None:
        for params, field in (({"role": "owner"}, "role"), ({"limit": 101}, "limit")):
            response = await accounts.agent.client.get(USERS, params=params)
            assert response.status_code == 422
            assert response.json()["field"] == field


class TestCreateUser:
    async def test_anonymous(self, anon: AsyncClient) -> None:
        assert (await anon.post(USERS, json=_new_user())).status_code == 401

    async def test_not_an_admin(self, accounts: Accounts, conn: Connection) -> None:
        for person in (accounts.alice, accounts.agent):
            response = await person.client.post(USERS, json=_new_user(role="admin"))
            assert response.status_code == 403
        cur = await conn.execute("select 1 from users where email = 'carol@example.com'")
        assert await cur.fetchone() is None

    async def test_valid(self, accounts: Accounts, anon: AsyncClient) -> None:
        response = await accounts.admin.client.post(USERS, json=_new_user())

        assert response.status_code == 201
        user = response.json()
        assert user["role"] == "agent"
        assert user["is_active"] is True
        assert "password" not in response.text
        login = await anon.post(
            "/api/v1/auth/login",
            json={"email": "carol@example.com", "password": "a long passphrase"},
        )
        assert login.json()["role"] == "agent"

    async def test_email_taken(self, accounts: Accounts) -> None:
        response = await accounts.admin.client.post(
            USERS, json=_new_user(email=accounts.alice.user.email)
        )

        assert response.status_code == 409
        assert response.json()["field"] == "email"

    async def test_invalid(self, accounts: Accounts) -> None:
        for overrides, field in (
            ({"email": "nope"}, "email"),
            ({"password": "short"}, "password"),
            ({"role": "root"}, "role"),
            ({"name": " "}, "name"),
        ):
            response = await accounts.admin.client.post(USERS, json=_new_user(**overrides))
            assert response.status_code == 422, overrides
            assert response.json()["field"] == field


class TestUpdateUser:
    async def test_not_an_admin(self, accounts: Accounts) -> None:
        response = await accounts.agent.client.patch(
            f"{USERS}/{accounts.alice.user.id}", json={"role": "admin"}
        )

        assert response.status_code == 403

    async def test_promote(self, accounts: Accounts, conn: Connection) -> None:
        await create_ticket(conn, accounts.bob)

        response = await accounts.admin.client.patch(
            f"{USERS}/{accounts.alice.user.id}", json={"role": "agent", "name": "Alice Agent"}
        )

        assert response.status_code == 200
        assert response.json()["role"] == "agent"
        assert response.json()["name"] == "Alice Agent"
        # With the new role comes the agent's view of every ticket.
        listed = await accounts.alice.client.get("/api/v1/tickets")
        assert [t["user_id"] for t in listed.json()["items"]] == [str(accounts.bob.user.id)]

    async def test_demote(self, accounts: Accounts, conn: Connection) -> None:
        await create_ticket(conn, accounts.bob)

        await accounts.admin.client.patch(
            f"{USERS}/{accounts.agent.user.id}", json={"role": "user"}
        )

        listed = await accounts.agent.client.get("/api/v1/tickets")
        assert listed.json()["items"] == []

    async def test_deactivate(self, accounts: Accounts, anon: AsyncClient) -> None:
        session = await anon.post(
            "/api/v1/auth/login",
            json={"email": accounts.bob.user.email, "password": PASSWORD},
        )
        assert session.status_code == 200

        response = await accounts.admin.client.patch(
            f"{USERS}/{accounts.bob.user.id}", json={"is_active": False}
        )

        assert response.status_code == 200
        assert response.json()["is_active"] is False
        assert (await anon.get("/api/v1/me")).status_code == 401  # the session ended
        assert (await accounts.bob.client.get("/api/v1/me")).status_code == 401  # and the token

    async def test_reactivate(self, accounts: Accounts) -> None:
        url = f"{USERS}/{accounts.bob.user.id}"
        await accounts.admin.client.patch(url, json={"is_active": False})

        await accounts.admin.client.patch(url, json={"is_active": True})

        assert (await accounts.bob.client.get("/api/v1/me")).status_code == 200

    async def test_cannot_demote_or_lock_out_yourself(self, accounts: Accounts) -> None:
        url = f"{USERS}/{accounts.admin.user.id}"

        for body in ({"role": "agent"}, {"is_active": False}):
            response = await accounts.admin.client.patch(url, json=body)
            assert response.status_code == 409, body
            assert response.json()["code"] == "self_demotion"
        assert (await accounts.admin.client.get("/api/v1/me")).json()["role"] == "admin"

    async def test_system_account_is_not_editable(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        system_id = await github_system_user(conn)

        response = await accounts.admin.client.patch(f"{USERS}/{system_id}", json={"role": "admin"})

        assert response.status_code == 404

    async def test_unknown(self, accounts: Accounts) -> None:
        response = await accounts.admin.client.patch(
            f"{USERS}/01900000-0000-7000-8000-000000000000", json={"name": "Nobody"}
        )

        assert response.status_code == 404
        assert response.json()["code"] == "user_not_found"
