"""``tickets.enabled: false``: the ticket routes are gone, the rest of the app is not."""

import re
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import Accounts
from ticketdesk.db import Connection
from ticketdesk.live.hub import APPLICATION_NAME

TICKET_PATHS = re.compile(r"^/api/v1/(tickets|integrations/github|events/stream)\b")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Tickets switched off, as with ``TICKETS_ENABLED=false``."""
    return {"tickets": {"enabled": False}}


def _ticket_routes(app: FastAPI) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if TICKET_PATHS.match(path)
        for method in operations
    ]


async def test_every_ticket_route_says_tickets_are_off(app: FastAPI, accounts: Accounts) -> None:
    routes = _ticket_routes(app)
    some_id = str(uuid.uuid4())
    answers = {}
    for method, path in routes:
        url = re.sub(r"\{[^}]+\}", some_id, path)
        response = await accounts.admin.client.request(method, url, json={})
        answers[f"{method} {path}"] = (
            response.status_code,
            response.headers["content-type"],
            response.json()["code"],
        )

    assert len(routes) > 10
    assert set(answers.values()) == {(404, "application/problem+json", "tickets_disabled")}, answers


async def test_anonymous_callers_hear_the_same(anon: AsyncClient) -> None:
    """The switch answers before sign-in is asked for: there is nothing to sign in to."""
    response = await anon.get("/api/v1/tickets")

    assert response.status_code == 404
    assert response.json()["code"] == "tickets_disabled"


async def test_the_message_says_so(accounts: Accounts) -> None:
    response = await accounts.alice.client.get("/api/v1/tickets")

    assert response.json()["detail"] == "Tickets are switched off on this server."


async def test_the_rest_of_the_app_works(accounts: Accounts, anon: AsyncClient) -> None:
    config = await anon.get("/api/v1/config")
    assert config.status_code == 200
    assert config.json()["tickets_enabled"] is False
    assert (await accounts.alice.client.get("/api/v1/me")).status_code == 200
    assert (await accounts.admin.client.get("/api/v1/users")).status_code == 200
    assert (await accounts.admin.client.get("/api/v1/labels")).status_code == 200


async def test_no_connection_listens_for_live_updates(app: FastAPI, conn: Connection) -> None:
    cur = await conn.execute(
        "select count(*) as n from pg_stat_activity"
        " where datname = current_database() and application_name = %s",
        (APPLICATION_NAME,),
    )

    assert await cur.fetchone() == {"n": 0}
