"""The rating links of the resolution mail, end to end: a real worker mails them to a
real SMTP server, and the tests follow them as the rating page does (no sign-in)."""

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.csat.support import age_first_rating, csat_of, rate, rated_events, resolved_ticket
from tests.factories import Accounts
from tests.mailservers import SmtpServer
from tests.notifications.conftest import BASE_URL, mail_settings
from tests.notifications.support import html, mail_to, open_ticket, plain, set_status, settled
from tests.workers import running_worker
from ticketdesk.config import Settings
from ticketdesk.csat import service as csat
from ticketdesk.db import Connection

_LINK = re.compile(re.escape(BASE_URL) + r"/rate#token=([A-Za-z0-9_-]+)&rating=(good|bad)")


@pytest.fixture
def settings_overrides(smtp_server: SmtpServer) -> dict[str, Any]:
    """Mail on, aimed at the test's SMTP server."""
    return mail_settings(smtp_server)


@pytest.fixture
async def worker(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """A job worker on the app's pool, stopped after the test."""
    async with running_worker(app, settings):
        yield


pytestmark = pytest.mark.usefixtures("worker")


async def _mailed_links(
    accounts: Accounts, conn: Connection, smtp_server: SmtpServer, ticket: dict[str, Any]
) -> dict[str, str]:
    """The rating links of the latest mail to Alice: each choice's token."""
    await settled(conn)
    last = mail_to(smtp_server, accounts.alice)[-1]
    return {rating: token for token, rating in _LINK.findall(plain(last))}


async def _follow(anon: AsyncClient, token: str, rating: str) -> Any:
    """What the rating page posts when a mailed link opens it."""
    return await anon.post("/api/v1/ratings/link", json={"token": token, "rating": rating})


async def _rounds(conn: Connection, ticket: dict[str, Any]) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "select rating, comment, token_used_at is not null as used from csat_rounds"
        " where ticket_id = %s order by started_at",
        (ticket["id"],),
    )
    return list(await cur.fetchall())


class TestResolutionMail:
    """The notification mail: the submitter's resolved and closed mails carry the links"""

    async def test_the_resolved_mail_carries_good_and_bad_links(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        ticket = await resolved_ticket(accounts)

        links = await _mailed_links(accounts, conn, smtp_server, ticket)

        resolved = mail_to(smtp_server, accounts.alice)[-1]
        assert "How did we do? One click rates this ticket" in plain(resolved)
        assert "the links work once, for 7 days" in plain(resolved)
        assert set(links) == {"good", "bad"}
        assert links["good"] == links["bad"]  # one round, one token
        good = f"{BASE_URL}/rate#token={links['good']}&amp;rating=good"
        assert f'href="{good}"' in html(resolved)

    async def test_closing_by_staff_asks_too_and_other_mail_does_not(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        ticket = await resolved_ticket(accounts)
        await settled(conn)
        await set_status(accounts.agent, ticket, "open")
        await settled(conn)
        await set_status(accounts.agent, ticket, "closed")

        closed_links = await _mailed_links(accounts, conn, smtp_server, ticket)

        *_, resolved, reopened, closed = mail_to(smtp_server, accounts.alice)
        assert _LINK.findall(plain(reopened)) == []
        assert "closed your ticket" in plain(closed)
        # Closing after reopening is a new round: a new token.
        assert closed_links["good"] != _LINK.findall(plain(resolved))[0][0]

    async def test_staff_mail_carries_no_links(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        await resolved_ticket(accounts)
        await settled(conn)

        assert all(
            "/rate#" not in plain(m)
            for person in (accounts.agent, accounts.admin)
            for m in mail_to(smtp_server, person)
        )

    async def test_a_rated_round_is_not_asked_again_by_link(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer, anon: AsyncClient
    ) -> None:
        ticket = await resolved_ticket(accounts)
        links = await _mailed_links(accounts, conn, smtp_server, ticket)
        await _follow(anon, links["good"], "good")
        closed = await accounts.agent.client.delete(f"/api/v1/tickets/{ticket['id']}/close")

        await settled(conn)

        assert closed.status_code == 200
        last = mail_to(smtp_server, accounts.alice)[-1]
        assert "closed your ticket" in plain(last)
        assert _LINK.findall(plain(last)) == []

    async def test_a_round_rated_in_the_app_is_not_asked_again_by_mail(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        ticket = await resolved_ticket(accounts)
        await settled(conn)
        await rate(accounts.alice, ticket, "good")
        await set_status(accounts.agent, ticket, "closed")

        await settled(conn)

        last = mail_to(smtp_server, accounts.alice)[-1]
        assert "closed your ticket" in plain(last)
        assert _LINK.findall(plain(last)) == []

    async def test_a_reopened_ticket_closed_by_a_merge_carries_no_links(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer, anon: AsyncClient
    ) -> None:
        duplicate = await resolved_ticket(accounts)
        first = await _mailed_links(accounts, conn, smtp_server, duplicate)
        await set_status(accounts.alice, duplicate, "open")
        main = await open_ticket(accounts.bob, title="Exports fail for everyone")
        merged = await accounts.agent.client.post(
            f"/api/v1/tickets/{duplicate['id']}/merge", json={"into": str(main["number"])}
        )
        await settled(conn)

        late = await _follow(anon, first["good"], "good")

        assert merged.status_code == 201, merged.text
        last = mail_to(smtp_server, accounts.alice)[-1]
        assert "closed your ticket" in plain(last)
        assert _LINK.findall(plain(last)) == []
        assert late.status_code == 409
        assert late.json()["code"] == "not_rateable"
        assert await _rounds(conn, duplicate) == [{"rating": None, "comment": None, "used": False}]


class TestRateByLink:
    """POST /ratings/link"""

    async def test_a_click_records_the_rating_without_sign_in(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer, anon: AsyncClient
    ) -> None:
        ticket = await resolved_ticket(accounts)
        links = await _mailed_links(accounts, conn, smtp_server, ticket)

        response = await _follow(anon, links["bad"], "bad")

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["ticket_number"] == ticket["number"]
        assert body["rating"] == "bad"
        assert body["comment"] is None
        assert (await csat_of(accounts.agent, ticket))["rating"] == "bad"
        assert [e["data"] for e in await rated_events(accounts.agent, ticket)] == [
            {"rating": "bad", "previous": None}
        ]
        [event] = await rated_events(accounts.agent, ticket)
        assert event["actor"]["id"] == str(accounts.alice.user.id)

    async def test_a_used_link_is_refused_and_changes_nothing(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer, anon: AsyncClient
    ) -> None:
        ticket = await resolved_ticket(accounts)
        links = await _mailed_links(accounts, conn, smtp_server, ticket)
        await _follow(anon, links["good"], "good")

        again = await _follow(anon, links["bad"], "bad")

        assert again.status_code == 409
        assert again.headers["content-type"] == "application/problem+json"
        assert again.json()["code"] == "rating_link_used"
        assert again.json()["field"] == "token"
        assert await _rounds(conn, ticket) == [{"rating": "good", "comment": None, "used": True}]

    async def test_clicks_at_once_record_one_rating(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer, anon: AsyncClient
    ) -> None:
        ticket = await resolved_ticket(accounts)
        links = await _mailed_links(accounts, conn, smtp_server, ticket)

        responses = await asyncio.gather(
            *(_follow(anon, links[choice], choice) for choice in ("good", "bad", "good", "bad"))
        )

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 409, 409, 409]
        [won] = [r.json() for r in responses if r.status_code == 200]
        assert {r.json()["code"] for r in responses if r.status_code == 409} == {"rating_link_used"}
        assert await _rounds(conn, ticket) == [
            {"rating": won["rating"], "comment": None, "used": True}
        ]
        assert len(await rated_events(accounts.agent, ticket)) == 1

    async def test_an_expired_link_is_refused(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer, anon: AsyncClient
    ) -> None:
        ticket = await resolved_ticket(accounts)
        links = await _mailed_links(accounts, conn, smtp_server, ticket)
        await conn.execute(
            "update csat_rounds set token_expires_at = now() - interval '1 second'"
            " where ticket_id = %s",
            (ticket["id"],),
        )

        response = await _follow(anon, links["good"], "good")

        assert response.status_code == 409
        assert response.json()["code"] == "rating_link_expired"
        assert await _rounds(conn, ticket) == [{"rating": None, "comment": None, "used": False}]

    async def test_links_expire_seven_days_after_the_resolution(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await resolved_ticket(accounts)

        cur = await conn.execute(
            "select token_expires_at - started_at as ttl from csat_rounds where ticket_id = %s",
            (ticket["id"],),
        )

        assert await cur.fetchall() == [{"ttl": timedelta(days=7)}]

    async def test_forged_and_random_tokens_are_refused(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer, anon: AsyncClient
    ) -> None:
        ticket = await resolved_ticket(accounts)
        links = await _mailed_links(accounts, conn, smtp_server, ticket)
        round_hex = links["good"][:32]
        forged = [
            round_hex + "A" * 43,  # the right round, a made-up signature
            csat.link_token(b"another server's key", UUID(hex=round_hex)),
            "x" * 75,
            links["good"][:-1],
        ]

        responses = [await _follow(anon, token, "good") for token in forged]

        assert [r.status_code for r in responses] == [404] * len(forged)
        assert {r.json()["code"] for r in responses} == {"rating_link_invalid"}
        assert await _rounds(conn, ticket) == [{"rating": None, "comment": None, "used": False}]

    async def test_a_link_of_an_earlier_round_is_refused_after_resolving_again(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer, anon: AsyncClient
    ) -> None:
        ticket = await resolved_ticket(accounts)
        first = await _mailed_links(accounts, conn, smtp_server, ticket)
        await set_status(accounts.alice, ticket, "open")
        await set_status(accounts.agent, ticket, "resolved")

        response = await _follow(anon, first["good"], "good")

        assert response.status_code == 409
        assert response.json()["code"] == "not_rateable"

    async def test_a_link_changes_an_app_rating_within_seven_days_not_after(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer, anon: AsyncClient
    ) -> None:
        ticket = await resolved_ticket(accounts)
        links = await _mailed_links(accounts, conn, smtp_server, ticket)
        await rate(accounts.alice, ticket, "good", "Nice.")
        await age_first_rating(conn, ticket, days=7.5)

        late = await _follow(anon, links["bad"], "bad")

        assert late.status_code == 409
        assert late.json()["code"] == "rating_window_passed"
        assert await _rounds(conn, ticket) == [
            {"rating": "good", "comment": "Nice.", "used": False}
        ]

    async def test_a_rating_must_be_good_or_bad(self, anon: AsyncClient) -> None:
        response = await anon.post("/api/v1/ratings/link", json={"token": "abc", "rating": "ok"})

        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["rating"]


class TestCommentByLink:
    """PUT /ratings/link/comment"""

    async def test_the_grant_adds_a_comment_staff_then_see(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer, anon: AsyncClient
    ) -> None:
        ticket = await resolved_ticket(accounts)
        links = await _mailed_links(accounts, conn, smtp_server, ticket)
        grant = (await _follow(anon, links["good"], "good")).json()["comment_grant"]

        response = await anon.put(
            "/api/v1/ratings/link/comment", json={"grant": grant, "comment": "Fast, thank you."}
        )

        assert response.status_code == 200, response.text
        assert response.json()["comment"] == "Fast, thank you."
        seen = await csat_of(accounts.agent, ticket)
        assert (seen["rating"], seen["comment"]) == ("good", "Fast, thank you.")
        # A comment is no new rating.
        assert len(await rated_events(accounts.agent, ticket)) == 1

    async def test_a_forged_grant_is_refused(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer, anon: AsyncClient
    ) -> None:
        ticket = await resolved_ticket(accounts)
        links = await _mailed_links(accounts, conn, smtp_server, ticket)
        grant = (await _follow(anon, links["good"], "good")).json()["comment_grant"]
        round_hex, rating, expires, signature = grant.split(".")
        later = int(expires) + 86400
        forged = [
            f"{round_hex}.{rating}.{later}.{signature}",  # a later expiry
            f"{round_hex}.bad.{expires}.{signature}",  # another rating
            f"{round_hex}.{rating}.\u00b2.{signature}",  # a digit int() cannot read
            "nonsense",
            links["good"],  # the rating token is no comment grant
        ]

        responses = [
            await anon.put("/api/v1/ratings/link/comment", json={"grant": g, "comment": "Hi"})
            for g in forged
        ]

        assert [r.status_code for r in responses] == [404] * len(forged)
        assert {r.json()["code"] for r in responses} == {"comment_grant_invalid"}
        assert (await csat_of(accounts.agent, ticket))["comment"] is None

    async def test_a_grant_does_not_outlive_a_change_of_the_rating(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer, anon: AsyncClient
    ) -> None:
        ticket = await resolved_ticket(accounts)
        links = await _mailed_links(accounts, conn, smtp_server, ticket)
        grant = (await _follow(anon, links["good"], "good")).json()["comment_grant"]
        await rate(accounts.alice, ticket, "bad", "It broke again.")

        response = await anon.put(
            "/api/v1/ratings/link/comment", json={"grant": grant, "comment": "Great!"}
        )

        assert response.status_code == 409
        assert response.json()["code"] == "rating_changed"
        assert response.json()["field"] == "grant"
        assert await _rounds(conn, ticket) == [
            {"rating": "bad", "comment": "It broke again.", "used": True}
        ]

    async def test_an_old_grant_is_refused(
        self,
        accounts: Accounts,
        conn: Connection,
        smtp_server: SmtpServer,
        anon: AsyncClient,
        settings: Settings,
    ) -> None:
        ticket = await resolved_ticket(accounts)
        links = await _mailed_links(accounts, conn, smtp_server, ticket)
        await _follow(anon, links["good"], "good")
        old = csat.comment_grant(
            settings.secret(),
            UUID(hex=links["good"][:32]),
            "good",
            datetime.now(UTC) - csat.COMMENT_GRANT_TTL,
        )

        response = await anon.put(
            "/api/v1/ratings/link/comment", json={"grant": old, "comment": "Late words."}
        )

        assert response.status_code == 409
        assert response.json()["code"] == "comment_grant_expired"
        assert (await csat_of(accounts.agent, ticket))["comment"] is None
