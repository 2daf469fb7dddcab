"""Mailed links, end to end through a real SMTP server and the real job worker:
password resets, invitations, address confirmation, and changing a password."""

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from email.message import EmailMessage
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response

from tests.factories import PASSWORD, Accounts
from tests.jobs.waiting import eventually
from tests.mailservers import SmtpServer
from tests.workers import running_worker
from ticketdesk.auth import links
from ticketdesk.auth.service import MAX_FAILURES_PER_PAIR
from ticketdesk.config import ConfigError, Settings, load_settings
from ticketdesk.db import Connection
from ticketdesk.users.service import hash_password

NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(r"(http://\S+)#token=([A-Za-z0-9_-]+)")


@pytest.fixture
def settings_overrides(smtp_server: SmtpServer) -> dict[str, Any]:
    """Mail goes to the test's SMTP server; failed jobs come back quickly."""
    return {
        "smtp_url": smtp_server.url,
        "base_url": "http://desk.example.com",
        "jobs": {"poll_interval_seconds": 0.2, "retry_base_seconds": 0.2, "max_attempts": 5},
    }


@pytest.fixture
async def worker(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """A job worker on the app's pool, stopped after the test."""
    async with running_worker(app, settings):
        yield


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """A client that keeps cookies, as a browser would, and holds no token."""
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


async def mails(smtp_server: SmtpServer, count: int) -> list[EmailMessage]:
    """The first ``count`` mails the server received, waiting for them."""
    return await anyio.to_thread.run_sync(smtp_server.wait_for, count)


def text_of(message: EmailMessage) -> str:
    """The plain-text part of a mail."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def html_of(message: EmailMessage) -> str:
    """The HTML part of a mail."""
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def link_in(message: EmailMessage) -> tuple[str, str]:
    """The page a mail links to, and the secret in its fragment."""
    match = LINK.search(text_of(message))
    assert match is not None, text_of(message)
    return match[1], match[2]


async def login(client: AsyncClient, email: str, password: str) -> Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


def answer_of(response: Response) -> tuple[int, dict[str, Any], bool]:
    """What a caller sees of a response: its status, its body but the request's id (which
    every response has its own of), and whether it sets a cookie."""
    body = {key: value for key, value in response.json().items() if key != "request_id"}
    return response.status_code, body, "set-cookie" in response.headers


async def request_reset(client: AsyncClient, email: str) -> Response:
    return await client.post("/api/v1/auth/password-reset", json={"email": email})


async def confirm_reset(client: AsyncClient, token: str, password: str = NEW_PASSWORD) -> Response:
    return await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": password}
    )


async def no_jobs_left(conn: Connection) -> bool:
    return await job_rows(conn) == []


async def job_rows(conn: Connection) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "select id, task_name, status::text as status, attempts, args"
        " from procrastinate_jobs order by id"
    )
    return await cur.fetchall()


@pytest.mark.usefixtures("worker")
class TestPasswordReset:
    async def test_the_mailed_link_sets_a_new_password_once(
        self, anon: AsyncClient, accounts: Accounts, smtp_server: SmtpServer
    ) -> None:
        alice = accounts.alice.user

        asked = await request_reset(anon, alice.email.upper())
        [mail] = await mails(smtp_server, 1)
        page, token = link_in(mail)
        used = await confirm_reset(anon, token)
        again = await confirm_reset(anon, token, "yet another passphrase")

        assert asked.status_code == 202
        assert mail["To"] == f"{alice.name} <{alice.email}>"
        assert mail["Subject"] == "Reset your ticketdesk password"
        assert page == "http://desk.example.com/reset-password"
        assert "within 1 hour" in text_of(mail)
        assert f"#token={token}" in html_of(mail)
        assert used.status_code == 204
        assert (await login(anon, alice.email, NEW_PASSWORD)).status_code == 200
        assert (await login(anon, alice.email, PASSWORD)).status_code == 401
        assert again.status_code == 409
        assert again.headers["content-type"] == "application/problem+json"
        assert (again.json()["code"], again.json()["field"]) == ("link_expired", "token")
        assert (await login(anon, alice.email, "yet another passphrase")).status_code == 401

    async def test_an_unknown_address_gets_the_same_answer_and_no_mail(
        self, anon: AsyncClient, accounts: Accounts, smtp_server: SmtpServer
    ) -> None:
        unknown = await request_reset(anon, "nobody-here@example.com")
        known = await request_reset(anon, accounts.bob.user.email)
        [mail] = await mails(smtp_server, 1)
        await asyncio.sleep(0.5)  # time for a second mail, were there one

        assert (unknown.status_code, unknown.json()) == (known.status_code, known.json())
        assert unknown.status_code == 202
        assert [m["To"] for m in smtp_server.messages] == [mail["To"]]
        assert accounts.bob.user.email in mail["To"]

    async def test_an_expired_link_is_refused(
        self, anon: AsyncClient, accounts: Accounts, smtp_server: SmtpServer, conn: Connection
    ) -> None:
        await request_reset(anon, accounts.alice.user.email)
        [mail] = await mails(smtp_server, 1)
        _, token = link_in(mail)
        await conn.execute("update account_links set expires_at = now() - interval '1 second'")

        refused = await confirm_reset(anon, token)

        assert (refused.status_code, refused.json()["code"]) == (409, "link_expired")
        assert (await login(anon, accounts.alice.user.email, PASSWORD)).status_code == 200

    async def test_a_made_up_link_is_refused(self, anon: AsyncClient) -> None:
        refused = await confirm_reset(anon, "x" * 43)

        assert (refused.status_code, refused.json()["code"]) == (409, "link_expired")

    async def test_the_new_password_follows_the_sign_up_rules(
        self, anon: AsyncClient, accounts: Accounts, smtp_server: SmtpServer
    ) -> None:
        await request_reset(anon, accounts.alice.user.email)
        _, token = link_in((await mails(smtp_server, 1))[0])

        short = await confirm_reset(anon, token, "short")
        then = await confirm_reset(anon, token)

        assert short.status_code == 422
        assert [e["field"] for e in short.json()["errors"]] == ["password"]
        assert then.status_code == 204  # the refused attempt did not spend the link

    async def test_two_uses_of_one_link_at_once_set_one_password(
        self, anon: AsyncClient, accounts: Accounts, smtp_server: SmtpServer
    ) -> None:
        email = accounts.alice.user.email
        await request_reset(anon, email)
        _, token = link_in((await mails(smtp_server, 1))[0])

        first, second = await asyncio.gather(
            confirm_reset(anon, token, "the first passphrase"),
            confirm_reset(anon, token, "the second passphrase"),
        )
        signed_in = [
            (await login(anon, email, p)).status_code
            for p in ("the first passphrase", "the second passphrase")
        ]

        assert sorted([first.status_code, second.status_code]) == [204, 409]
        loser = first if first.status_code == 409 else second
        assert loser.json()["code"] == "link_expired"
        assert sorted(signed_in) == [200, 401]
        winner = 0 if first.status_code == 204 else 1
        assert signed_in[winner] == 200

    async def test_a_password_change_stops_a_reset_link_sent_before(
        self, anon: AsyncClient, accounts: Accounts, smtp_server: SmtpServer
    ) -> None:
        alice = accounts.alice
        await request_reset(anon, alice.user.email)
        _, token = link_in((await mails(smtp_server, 1))[0])
        changed = await alice.client.put(
            "/api/v1/me/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        )

        refused = await confirm_reset(anon, token, "the old link's passphrase")

        assert changed.status_code == 204
        assert (refused.status_code, refused.json()["code"]) == (409, "link_expired")
        assert (await login(anon, alice.user.email, NEW_PASSWORD)).status_code == 200

    async def test_a_reset_signs_out_everywhere(
        self,
        anon: AsyncClient,
        browser: AsyncClient,
        accounts: Accounts,
        smtp_server: SmtpServer,
    ) -> None:
        alice = accounts.alice
        assert (await login(browser, alice.user.email, PASSWORD)).status_code == 200

        await request_reset(anon, alice.user.email)
        _, token = link_in((await mails(smtp_server, 1))[0])
        await confirm_reset(anon, token)

        assert (await browser.get("/api/v1/me")).status_code == 401
        assert (await alice.client.get("/api/v1/me")).status_code == 401  # her access token
        assert (await accounts.bob.client.get("/api/v1/me")).status_code == 200

    async def test_requests_are_limited_per_address(
        self, anon: AsyncClient, accounts: Accounts, smtp_server: SmtpServer
    ) -> None:
        for address in (accounts.alice.user.email, "nobody-here@example.com"):
            answers = [(await request_reset(anon, address)).status_code for _ in range(4)]
            limited = await request_reset(anon, address)

            assert answers == [202, 202, 202, 429]
            assert limited.status_code == 429
            assert limited.headers["content-type"] == "application/problem+json"
            assert limited.json()["code"] == "rate_limited"
            assert int(limited.headers["Retry-After"]) > 0
        assert (await request_reset(anon, accounts.bob.user.email)).status_code == 202

    async def test_an_address_is_one_address_in_any_case(
        self, anon: AsyncClient, accounts: Accounts
    ) -> None:
        email = accounts.bob.user.email
        variants = [email, email.upper(), email.capitalize(), email.swapcase()]

        answers = [(await request_reset(anon, address)).status_code for address in variants]

        assert answers == [202, 202, 202, 429]

    async def test_requests_are_limited_per_client(self, anon: AsyncClient) -> None:
        answers = [
            (await request_reset(anon, f"someone-{n}@example.com")).status_code
            for n in range(links.MAX_REQUESTS_PER_IP + 1)
        ]

        assert answers == [202] * links.MAX_REQUESTS_PER_IP + [429]


class TestResetJob:
    """The job that mails a link, without a worker running until the test starts one."""

    async def test_jobs_carry_ids_only(
        self, anon: AsyncClient, accounts: Accounts, conn: Connection, settings: Settings
    ) -> None:
        await request_reset(anon, accounts.alice.user.email)
        await accounts.admin.client.post(
            "/api/v1/users/invitations", json={"email": "grace@example.com", "name": "Grace"}
        )

        [asked, invited] = await job_rows(conn)
        cur = await conn.execute("select id from account_links")
        # Only the invitation's: the reset link is made by its job, which looks Alice up.
        [link] = await cur.fetchall()

        assert set(asked["args"]) == {"request_id", "purpose"}
        assert asked["args"]["purpose"] == "reset"
        assert accounts.alice.user.email not in repr(asked)
        assert invited["args"] == {"link_id": str(link["id"])}
        assert links.link_secret(settings.secret(), link["id"]) not in repr(invited)
        assert "grace@example.com" not in repr(invited)

    async def test_no_secret_reaches_the_logs_or_the_queue(
        self,
        app: FastAPI,
        settings: Settings,
        anon: AsyncClient,
        accounts: Accounts,
        smtp_server: SmtpServer,
        conn: Connection,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.DEBUG)
        alice = accounts.alice.user
        await request_reset(anon, alice.email)
        invited = await accounts.admin.client.post(
            "/api/v1/users/invitations", json={"email": "grace@example.com", "name": "Grace"}
        )
        # Read while queued: the worker deletes a job once it succeeds.
        queued = repr(await job_rows(conn))
        async with running_worker(app, settings):
            sent = await mails(smtp_server, 2)
            tokens = [link_in(mail)[1] for mail in sent]
            reset, invitation = tokens if alice.email in sent[0]["To"] else tokens[::-1]
            used = [
                (await confirm_reset(anon, reset)).status_code,
                (
                    await anon.post(
                        "/api/v1/auth/invitations/accept",
                        json={"token": invitation, "password": "grace's passphrase"},
                    )
                ).status_code,
            ]
        cur = await conn.execute("select * from account_links")
        stored = repr(await cur.fetchall())
        # All but the test's SMTP server, which is the mail's recipient: it must see it.
        logged = "\n".join(r.getMessage() for r in caplog.records if r.name != "mail.log")

        assert invited.status_code == 201
        assert used == [204, 200]
        assert "auth.answer_link_request" in queued
        assert "auth.send_account_link" in queued
        # The worker's own log of the jobs is among those searched.
        assert "auth.answer_link_request" in logged
        assert "auth.send_account_link" in logged
        for secret in (reset, invitation, NEW_PASSWORD, "grace's passphrase"):
            assert secret not in queued
            assert secret not in logged
            assert secret not in stored
        for address in (alice.email, "grace@example.com"):
            assert address not in queued

    async def test_any_address_costs_the_request_the_same_work(
        self, anon: AsyncClient, accounts: Accounts, conn: Connection
    ) -> None:
        await request_reset(anon, "nobody-here@example.com")
        await request_reset(anon, accounts.alice.user.email)

        jobs = await job_rows(conn)
        cur = await conn.execute("select count(*) as n from account_links")
        made = await cur.fetchone()

        assert [job["args"]["purpose"] for job in jobs] == ["reset", "reset"]
        assert made == {"n": 0}  # the jobs find out which address has an account

    async def test_a_refusal_gives_up_and_an_outage_retries(
        self,
        anon: AsyncClient,
        accounts: Accounts,
        conn: Connection,
        smtp_server: SmtpServer,
        worker: None,
    ) -> None:
        smtp_server.refuse(550)
        await request_reset(anon, accounts.alice.user.email)

        async def failed() -> list[dict[str, Any]]:
            return [row for row in await job_rows(conn) if row["status"] == "failed"]

        [given_up] = await eventually(failed, what="the refused mail to give up")
        listed = (await accounts.admin.client.get("/api/v1/admin/jobs")).json()["items"]

        assert given_up["attempts"] == 1
        assert "refused the reset mail" in listed[0]["error"]
        assert "550" in listed[0]["error"]

        smtp_server.refuse(None)
        smtp_server.stop()
        await request_reset(anon, accounts.bob.user.email)

        async def retrying() -> list[dict[str, Any]]:
            return [r for r in await job_rows(conn) if r["status"] == "todo" and r["attempts"]]

        await eventually(retrying, what="the mail to wait for the server")
        smtp_server.start()
        [mail] = await mails(smtp_server, 1)

        assert accounts.bob.user.email in mail["To"]


class TestMailSwitchedOff:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {}

    async def test_reset_says_it_is_unavailable(
        self, anon: AsyncClient, accounts: Accounts
    ) -> None:
        answer = await request_reset(anon, accounts.alice.user.email)
        config = (await anon.get("/api/v1/config")).json()

        assert (answer.status_code, answer.json()["code"]) == (409, "mail_disabled")
        assert config["mail_enabled"] is False

    async def test_invitations_are_unavailable(self, accounts: Accounts) -> None:
        answer = await accounts.admin.client.post(
            "/api/v1/users/invitations", json={"email": "new@example.com", "name": "New"}
        )

        assert (answer.status_code, answer.json()["code"]) == (409, "mail_disabled")

    def test_confirming_addresses_is_switched_on_from_the_environment(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("TICKETDESK_VERIFY_EMAIL", "true")
        monkeypatch.setenv("TICKETDESK_SMTP_URL", "smtp://mail.example.com")

        assert load_settings().accounts.verify_email is True

    def test_confirming_addresses_needs_mail(self) -> None:
        with pytest.raises(ConfigError) as refused:
            load_settings(accounts={"verify_email": True})

        assert "accounts.verify_email (TICKETDESK_VERIFY_EMAIL)" in str(refused.value)
        assert "smtp_url (TICKETDESK_SMTP_URL)" in str(refused.value)


class TestChangePassword:
    async def test_with_the_current_password(
        self, app: FastAPI, browser: AsyncClient, accounts: Accounts
    ) -> None:
        email = accounts.alice.user.email
        me = (await login(browser, email, PASSWORD)).json()
        async with AsyncClient(
            transport=ASGITransport(app=app), base_url="http://testserver"
        ) as elsewhere:
            await login(elsewhere, email, PASSWORD)

            changed = await browser.put(
                "/api/v1/me/password",
                json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                headers={"X-CSRF-Token": me["csrf_token"]},
            )

            assert changed.status_code == 204
            assert (await browser.get("/api/v1/me")).status_code == 200
            assert (await elsewhere.get("/api/v1/me")).status_code == 401
        assert (await accounts.alice.client.get("/api/v1/me")).status_code == 401  # her token
        assert (await accounts.bob.client.get("/api/v1/me")).status_code == 200
        assert (await login(browser, email, NEW_PASSWORD)).status_code == 200

    async def test_a_cookie_alone_changes_nothing(
        self, browser: AsyncClient, accounts: Accounts
    ) -> None:
        email = accounts.alice.user.email
        await login(browser, email, PASSWORD)

        password = await browser.put(
            "/api/v1/me/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        )
        name = await browser.patch("/api/v1/me", json={"name": "Someone Else"})

        assert (password.status_code, password.json()["code"]) == (403, "csrf_failed")
        assert (name.status_code, name.json()["code"]) == (403, "csrf_failed")
        assert (await browser.get("/api/v1/me")).json()["name"] == accounts.alice.user.name
        assert (await login(browser, email, PASSWORD)).status_code == 200

    async def test_a_wrong_current_password_is_refused(self, accounts: Accounts) -> None:
        refused = await accounts.alice.client.put(
            "/api/v1/me/password",
            json={"current_password": "not my password", "new_password": NEW_PASSWORD},
        )

        assert refused.status_code == 403
        assert (refused.json()["code"], refused.json()["field"]) == (
            "wrong_password",
            "current_password",
        )

    async def test_guessing_is_limited_like_signing_in(self, accounts: Accounts) -> None:
        answers = [
            (
                await accounts.alice.client.put(
                    "/api/v1/me/password",
                    json={"current_password": f"guess {n}", "new_password": NEW_PASSWORD},
                )
            ).status_code
            for n in range(7)
        ]

        assert answers[:5] == [403] * 5
        assert answers[-1] == 429

    async def test_renaming(self, accounts: Accounts) -> None:
        renamed = await accounts.alice.client.patch("/api/v1/me", json={"name": "  Alice B.  "})

        assert (renamed.status_code, renamed.json()["name"]) == (200, "Alice B.")
        assert (await accounts.alice.client.get("/api/v1/me")).json()["name"] == "Alice B."


@pytest.mark.usefixtures("worker")
class TestInvitations:
    async def invite(self, accounts: Accounts, **body: Any) -> Response:
        return await accounts.admin.client.post(
            "/api/v1/users/invitations",
            json={"email": "grace@example.com", "name": "Grace <Hopper>", "role": "agent", **body},
        )

    async def test_the_invited_person_chooses_a_password_and_is_signed_in(
        self, browser: AsyncClient, accounts: Accounts, smtp_server: SmtpServer
    ) -> None:
        invited = await self.invite(accounts)
        [mail] = await mails(smtp_server, 1)
        page, token = link_in(mail)
        before = await login(browser, "grace@example.com", NEW_PASSWORD)
        accepted = await browser.post(
            "/api/v1/auth/invitations/accept", json={"token": token, "password": NEW_PASSWORD}
        )
        me = await browser.get("/api/v1/me")
        listed = await accounts.admin.client.get("/api/v1/users", params={"role": "agent"})
        again = await browser.post(
            "/api/v1/auth/invitations/accept", json={"token": token, "password": NEW_PASSWORD}
        )

        assert invited.status_code == 201
        assert invited.json()["invitation_pending"] is True
        assert mail["Subject"] == "You are invited to ticketdesk"
        assert page == "http://desk.example.com/accept-invitation"
        assert "Grace &lt;Hopper&gt;" in html_of(mail)
        assert "within 7 days" in text_of(mail)
        assert before.status_code == 401
        assert accepted.status_code == 200
        assert (me.json()["email"], me.json()["role"]) == ("grace@example.com", "agent")
        grace = next(u for u in listed.json()["items"] if u["email"] == "grace@example.com")
        assert grace["invitation_pending"] is False
        assert (again.status_code, again.json()["code"]) == (409, "link_expired")

    async def test_a_resent_invitation_replaces_the_first(
        self, anon: AsyncClient, accounts: Accounts, smtp_server: SmtpServer
    ) -> None:
        user_id = (await self.invite(accounts)).json()["id"]
        _, first = link_in((await mails(smtp_server, 1))[0])
        resent = await accounts.admin.client.post(f"/api/v1/users/{user_id}/invitation")
        _, second = link_in((await mails(smtp_server, 2))[1])

        old = await anon.post(
            "/api/v1/auth/invitations/accept", json={"token": first, "password": NEW_PASSWORD}
        )
        new = await anon.post(
            "/api/v1/auth/invitations/accept", json={"token": second, "password": NEW_PASSWORD}
        )
        after = await accounts.admin.client.post(f"/api/v1/users/{user_id}/invitation")

        assert resent.status_code == 202
        assert first != second
        assert old.status_code == 409
        assert new.status_code == 200
        assert (after.status_code, after.json()["code"]) == (409, "invitation_accepted")

    async def test_an_invitation_never_replaces_a_chosen_password(
        self, anon: AsyncClient, accounts: Accounts, smtp_server: SmtpServer, conn: Connection
    ) -> None:
        await self.invite(accounts)
        _, token = link_in((await mails(smtp_server, 1))[0])
        # Grace has chosen a password another way while the link was still live (a
        # resent invitation accepted meanwhile, say).
        await conn.execute(
            "update users set password_hash = %s where email = 'grace@example.com'",
            [await hash_password("grace's own passphrase")],
        )

        refused = await anon.post(
            "/api/v1/auth/invitations/accept", json={"token": token, "password": NEW_PASSWORD}
        )

        assert (refused.status_code, refused.json()["code"]) == (409, "link_expired")
        assert "set-cookie" not in refused.headers
        assert (await login(anon, "grace@example.com", NEW_PASSWORD)).status_code == 401
        assert (await login(anon, "grace@example.com", "grace's own passphrase")).status_code == 200

    async def test_a_taken_address_is_refused(self, accounts: Accounts) -> None:
        taken = await self.invite(accounts, email=accounts.bob.user.email)

        assert (taken.status_code, taken.json()["code"]) == (409, "email_taken")


class TestConfirmingAddresses:
    @pytest.fixture
    def settings_overrides(self, smtp_server: SmtpServer) -> dict[str, Any]:
        return {
            "smtp_url": smtp_server.url,
            "base_url": "http://desk.example.com",
            "accounts": {"verify_email": True},
            "jobs": {"poll_interval_seconds": 0.2},
        }

    async def signup(self, client: AsyncClient) -> Response:
        return await client.post(
            "/api/v1/auth/signup",
            json={"email": "nina@example.com", "password": NEW_PASSWORD, "name": "Nina"},
        )

    @pytest.mark.usefixtures("worker")
    async def test_the_account_signs_in_once_its_address_is_confirmed(
        self, browser: AsyncClient, smtp_server: SmtpServer
    ) -> None:
        signed_up = await self.signup(browser)
        too_soon = await login(browser, "nina@example.com", NEW_PASSWORD)
        wrong_password = await login(browser, "nina@example.com", "not the password")
        [mail] = await mails(smtp_server, 1)
        page, token = link_in(mail)
        confirmed = await browser.post("/api/v1/auth/verify-email/confirm", json={"token": token})
        me = await browser.get("/api/v1/me")
        again = await browser.post("/api/v1/auth/verify-email/confirm", json={"token": token})

        assert signed_up.status_code == 202
        assert signed_up.json()["email"] == "nina@example.com"
        assert "ticketdesk_session" not in signed_up.headers.get("set-cookie", "")
        # Refused as a wrong password is: a sign-up with a taken address creates nothing,
        # so anything else would tell which addresses have accounts.
        assert (too_soon.status_code, too_soon.json()["code"]) == (401, "invalid_credentials")
        assert too_soon.json()["detail"] == (
            "Wrong e-mail address or password — or, if you just signed up, confirm your "
            "address first with the link we mailed you."
        )
        assert answer_of(too_soon) == answer_of(wrong_password)
        assert mail["Subject"] == "Confirm your e-mail address for ticketdesk"
        assert page == "http://desk.example.com/verify-email"
        assert confirmed.status_code == 204
        # Confirming signs nobody in: the password does.
        assert "set-cookie" not in confirmed.headers
        assert me.status_code == 401
        assert (again.status_code, again.json()["code"]) == (409, "link_expired")
        assert (await login(browser, "nina@example.com", NEW_PASSWORD)).status_code == 200

    @pytest.mark.usefixtures("worker")
    async def test_a_squatter_loses_the_account_once_its_owner_resets_the_password(
        self, anon: AsyncClient, browser: AsyncClient, smtp_server: SmtpServer
    ) -> None:
        # Someone signs up with Nina's address; her mail's link scanner (or Nina) confirms.
        await self.signup(anon)
        _, confirm = link_in((await mails(smtp_server, 1))[0])
        confirmed = await anon.post("/api/v1/auth/verify-email/confirm", json={"token": confirm})
        squatter = await login(browser, "nina@example.com", NEW_PASSWORD)
        assert (confirmed.status_code, squatter.status_code) == (204, 200)

        await request_reset(anon, "nina@example.com")
        _, reset = link_in((await mails(smtp_server, 2))[1])
        reset_done = await confirm_reset(anon, reset, "nina's own passphrase")

        assert reset_done.status_code == 204
        assert (await browser.get("/api/v1/me")).status_code == 401
        assert (await login(anon, "nina@example.com", NEW_PASSWORD)).status_code == 401
        assert (await login(anon, "nina@example.com", "nina's own passphrase")).status_code == 200

    @pytest.mark.usefixtures("worker")
    async def test_a_new_link_on_request(
        self, anon: AsyncClient, accounts: Accounts, smtp_server: SmtpServer
    ) -> None:
        await self.signup(anon)
        await mails(smtp_server, 1)

        again = await anon.post("/api/v1/auth/verify-email", json={"email": "nina@example.com"})
        confirmed = await anon.post(
            "/api/v1/auth/verify-email", json={"email": accounts.bob.user.email}
        )
        [_, second] = await mails(smtp_server, 2)
        await asyncio.sleep(0.5)  # time for a third mail, were there one

        assert again.status_code == confirmed.status_code == 202
        assert len(smtp_server.messages) == 2
        assert "nina@example.com" in second["To"]

    async def test_existing_accounts_sign_in_as_before(
        self, anon: AsyncClient, accounts: Accounts
    ) -> None:
        answer = await login(anon, accounts.alice.user.email, PASSWORD)

        assert answer.status_code == 200


class TestWithoutConfirmation:
    @pytest.fixture
    def settings_overrides(self, smtp_server: SmtpServer) -> dict[str, Any]:
        return {"smtp_url": smtp_server.url}

    async def test_sign_up_signs_in_and_mails_nothing(
        self, browser: AsyncClient, smtp_server: SmtpServer, conn: Connection
    ) -> None:
        # No worker: it would queue its periodic jobs. Mail only ever leaves through a job.
        signed_up = await browser.post(
            "/api/v1/auth/signup",
            json={"email": "nina@example.com", "password": NEW_PASSWORD, "name": "Nina"},
        )

        assert signed_up.status_code == 201
        assert (await browser.get("/api/v1/me")).status_code == 200
        assert await job_rows(conn) == []
        assert smtp_server.messages == []


class TestSignupWithATakenAddress:
    """With addresses confirmed first, sign-up tells nobody which addresses have accounts."""

    @pytest.fixture
    def settings_overrides(self, smtp_server: SmtpServer) -> dict[str, Any]:
        return {
            "smtp_url": smtp_server.url,
            "base_url": "http://desk.example.com",
            "accounts": {"verify_email": True},
            "jobs": {"poll_interval_seconds": 0.2},
        }

    async def signup(self, client: AsyncClient, email: str) -> Response:
        return await client.post(
            "/api/v1/auth/signup",
            json={"email": email, "password": NEW_PASSWORD, "name": "Someone"},
        )

    @pytest.mark.usefixtures("worker")
    async def test_answered_as_a_new_address_and_its_owner_is_told(
        self, anon: AsyncClient, accounts: Accounts, smtp_server: SmtpServer, conn: Connection
    ) -> None:
        alice = accounts.alice.user
        taken = await self.signup(anon, alice.email.upper())
        [notice] = await mails(smtp_server, 1)
        new = await self.signup(anon, "nina@example.com")
        [_, confirmation] = await mails(smtp_server, 2)
        cur = await conn.execute(
            "select count(*) as n from users where lower(email) = lower(%s)", [alice.email]
        )
        still_hers = await login(anon, alice.email, PASSWORD)
        not_the_new_password = await login(anon, alice.email, NEW_PASSWORD)

        assert (taken.status_code, new.status_code) == (202, 202)
        # Each names the address as it was given (normalised), not as an account holds it.
        assert taken.json()["email"] == alice.email.upper().replace("EXAMPLE.COM", "example.com")
        assert new.json()["email"] == "nina@example.com"
        assert taken.json()["detail"].replace(taken.json()["email"], "X") == new.json()[
            "detail"
        ].replace("nina@example.com", "X")
        assert set(taken.json()) == set(new.json()) == {"email", "detail"}
        assert "set-cookie" not in taken.headers
        assert notice["To"] == f"Alice Submitter <{alice.email}>"
        assert notice["Subject"] == "You already have a ticketdesk account"
        assert "http://desk.example.com/login" in text_of(notice)
        assert "http://desk.example.com/forgot-password" in text_of(notice)
        assert LINK.search(text_of(notice)) is None  # no secret link: nothing to misuse
        assert confirmation["Subject"] == "Confirm your e-mail address for ticketdesk"
        assert (await cur.fetchone()) == {"n": 1}
        assert still_hers.status_code == 200
        assert not_the_new_password.status_code == 401

    async def test_signing_in_with_the_password_signed_up_with_tells_nothing(
        self, anon: AsyncClient, accounts: Accounts
    ) -> None:
        # The probe: sign up with an address and a password of one's choosing, then sign
        # in with that pair, over and over, till the failures are throttled. For a new
        # address the account exists (unconfirmed) with that password; for a taken one
        # the password is wrong.
        probes = {}
        for email in (accounts.alice.user.email, "nina@example.com"):
            signed_up = await self.signup(anon, email)
            attempts = [
                answer_of(await login(anon, email, NEW_PASSWORD))
                for _ in range(MAX_FAILURES_PER_PAIR + 1)
            ]
            probes[email] = (signed_up.status_code, attempts)

        taken, new = probes[accounts.alice.user.email], probes["nina@example.com"]
        assert taken == new
        status, attempts = new
        assert status == 202
        assert [answer[0] for answer in attempts] == [401] * MAX_FAILURES_PER_PAIR + [429]
        assert attempts[0][1]["code"] == "invalid_credentials"
        assert not any(sets_cookie for _, _, sets_cookie in attempts)

    @pytest.mark.usefixtures("worker")
    async def test_its_owner_is_told_once_an_hour(
        self, anon: AsyncClient, accounts: Accounts, smtp_server: SmtpServer, conn: Connection
    ) -> None:
        alice = accounts.alice.user
        again = [(await self.signup(anon, alice.email)).status_code for _ in range(3)]
        await self.signup(anon, "nina@example.com")
        await eventually(lambda: no_jobs_left(conn), what="the mail jobs to finish")
        first = list(smtp_server.messages)
        # An hour on, someone signs up with it again.
        await conn.execute(
            "update users set signup_notice_at = now() - interval '61 minutes' where id = %s",
            [alice.id],
        )
        await self.signup(anon, alice.email)
        later = (await mails(smtp_server, 3))[2]

        assert again == [202] * 3
        assert sorted(mail["Subject"] for mail in first) == [
            "Confirm your e-mail address for ticketdesk",
            "You already have a ticketdesk account",
        ]
        assert later["Subject"] == "You already have a ticketdesk account"

    async def test_a_common_password_is_refused_for_either(
        self, anon: AsyncClient, accounts: Accounts
    ) -> None:
        for email in (accounts.alice.user.email, "nina@example.com"):
            refused = await anon.post(
                "/api/v1/auth/signup",
                json={"email": email, "password": "password12", "name": "Someone"},
            )
            assert refused.status_code == 422
            assert (refused.json()["code"], refused.json()["field"]) == (
                "password_too_common",
                "password",
            )


@pytest.mark.usefixtures("worker")
class TestGuessablePasswords:
    """Wherever a password is set, one that guessers try first is refused: 422 on its
    field, and nothing changes."""

    @pytest.mark.parametrize(
        ("password", "code"),
        [
            ("password12", "password_too_common"),
            ("QWERTYUIOP123", "password_too_common"),
            (" " * 10, "password_too_simple"),
            ("abababababab", "password_too_simple"),
        ],
    )
    async def test_sign_up(
        self, anon: AsyncClient, conn: Connection, password: str, code: str
    ) -> None:
        refused = await anon.post(
            "/api/v1/auth/signup",
            json={"email": "nina@example.com", "password": password, "name": "Nina"},
        )

        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        assert (refused.json()["code"], refused.json()["field"]) == (code, "password")
        cur = await conn.execute("select count(*) as n from users")
        assert (await cur.fetchone()) == {"n": 0}

    async def test_an_admin_creating_an_account(self, accounts: Accounts) -> None:
        refused = await accounts.admin.client.post(
            "/api/v1/users",
            json={"email": "ops@example.com", "name": "Ops", "password": "password12"},
        )

        assert refused.status_code == 422
        assert (refused.json()["code"], refused.json()["field"]) == (
            "password_too_common",
            "password",
        )

    async def test_changing_a_password(self, accounts: Accounts) -> None:
        refused = await accounts.alice.client.put(
            "/api/v1/me/password",
            json={"current_password": PASSWORD, "new_password": "1234567890"},
        )
        token_still_works = await accounts.alice.client.get("/api/v1/me")

        assert refused.status_code == 422
        assert (refused.json()["code"], refused.json()["field"]) == (
            "password_too_common",
            "new_password",
        )
        assert token_still_works.status_code == 200  # nothing was changed or revoked

    async def test_a_reset(
        self, anon: AsyncClient, accounts: Accounts, smtp_server: SmtpServer
    ) -> None:
        await request_reset(anon, accounts.alice.user.email)
        _, token = link_in((await mails(smtp_server, 1))[0])

        refused = await confirm_reset(anon, token, "iloveyou12")
        then = await confirm_reset(anon, token)

        assert refused.status_code == 422
        assert (refused.json()["code"], refused.json()["field"]) == (
            "password_too_common",
            "password",
        )
        assert then.status_code == 204  # the refused attempt did not spend the link

    async def test_accepting_an_invitation(
        self, anon: AsyncClient, accounts: Accounts, smtp_server: SmtpServer
    ) -> None:
        await accounts.admin.client.post(
            "/api/v1/users/invitations",
            json={"email": "grace@example.com", "name": "Grace", "role": "agent"},
        )
        _, token = link_in((await mails(smtp_server, 1))[0])

        refused = await anon.post(
            "/api/v1/auth/invitations/accept", json={"token": token, "password": " " * 12}
        )
        then = await anon.post(
            "/api/v1/auth/invitations/accept", json={"token": token, "password": NEW_PASSWORD}
        )

        assert refused.status_code == 422
        assert (refused.json()["code"], refused.json()["field"]) == (
            "password_too_simple",
            "password",
        )
        assert then.status_code == 200
