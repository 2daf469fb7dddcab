"""PostgreSQL restarted under a steady load of new tickets and comments.

A real server (uvicorn on a socket) on a cluster of the test's own; a few clients open
tickets and reply to them, each waiting for its answer before the next request, while
the cluster is restarted. Requests caught by the restart fail cleanly: a 503 problem
with ``Retry-After``, never a 500 or a hang. The pool recovers by itself, and every
ticket and comment that was answered 201 is in the database afterwards.
"""

import asyncio
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.factories import make_user, ticket_body
from tests.faults.cluster import Cluster
from tests.jobs.waiting import eventually
from tests.servers import serving
from ticketdesk.app import create_app
from ticketdesk.auth import service as auth
from ticketdesk.config import Settings, load_settings

pytestmark = pytest.mark.xdist_group("faults")

CLIENTS = 4
# Each client's successes wanted before the restart, and after it.
BEFORE, AFTER = 3, 3
# No request may take longer than this: a hang fails the test.
REQUEST_SECONDS = 20.0
MAX_REQUESTS = 400
# How long a request waits for a connection before its 503 (30 s in production).
POOL_TIMEOUT = 1.0


@dataclass
class Answers:
    """What one client was answered."""

    statuses: list[int] = field(default_factory=list)
    refusals: list[httpx.Response] = field(default_factory=list)
    tickets: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    since_restart: int = 0


@pytest.fixture
def cluster_settings(cluster: Cluster, tmp_path: Path) -> Settings:
    return load_settings(
        database_url=cluster.dsn,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        rate_limits={"tickets_per_hour": 10_000, "comments_per_hour": 10_000},
    )


@pytest.fixture
def server(cluster_settings: Settings) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    with serving(create_app(cluster_settings, pool_timeout=POOL_TIMEOUT), sock) as url:
        yield url


async def _tokens(dsn: str, count: int) -> list[str]:
    async with await psycopg.AsyncConnection.connect(
        dsn, autocommit=True, row_factory=psycopg.rows.dict_row
    ) as conn:
        tokens = []
        for n in range(count):
            user = await make_user(conn, name=f"Loader{n} Test")
            tokens.append((await auth.create_token(conn, user.id, "load")).token)
        return tokens


def _refused_cleanly(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["code"] == "busy"


async def _load(
    url: str, token: str, answers: Answers, restarted: asyncio.Event, stop: asyncio.Event
) -> None:
    """Open a ticket, reply to it, again and again, until told to stop."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=f"{url}/api/v1", headers=headers, timeout=REQUEST_SECONDS
    ) as client:
        ticket_id: str | None = None
        for n in range(MAX_REQUESTS):
            if stop.is_set():
                return
            if ticket_id is None or n % 2 == 0:
                title = f"Load {uuid.uuid4().hex}"
                response = await client.post("/tickets", json=ticket_body(title=title))
                if response.status_code == 201:
                    ticket_id = response.json()["id"]
                    answers.tickets.append(ticket_id)
            else:
                body = {"comment": f"Reply {uuid.uuid4().hex}"}
                response = await client.post(f"/tickets/{ticket_id}/comments", json=body)
                if response.status_code == 201:
                    answers.comments.append(response.json()["id"])
            answers.statuses.append(response.status_code)
            if response.status_code == 201:
                answers.since_restart += restarted.is_set()
            else:
                answers.refusals.append(response)
                await asyncio.sleep(0.05)


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_requests_fail_cleanly_and_nothing_answered_201_is_lost(
    cluster: Cluster, server: str, mode: str
) -> None:
    """``fast`` ends every session at once; ``immediate`` is a crash, recovered from WAL."""
    tokens = await _tokens(cluster.dsn, CLIENTS)
    answers = [Answers() for _ in tokens]
    restarted, stop = asyncio.Event(), asyncio.Event()
    clients = (_load(server, t, a, restarted, stop) for t, a in zip(tokens, answers, strict=True))
    load = asyncio.gather(*clients)

    async def until(what: str, check: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 20
        while not (check() or load.done()):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)

    try:
        await until("the load", lambda: all(len(a.tickets) >= BEFORE for a in answers))
        await asyncio.to_thread(cluster.restart, mode)
        restarted.set()
        await until("recovery", lambda: all(a.since_restart >= AFTER for a in answers))
    finally:
        stop.set()
        await load

    statuses = {s for a in answers for s in a.statuses}
    assert statuses <= {201, 503}, statuses
    assert 503 in statuses, "no request met the restart"
    for refusal in (r for a in answers for r in a.refusals):
        _refused_cleanly(refusal)
    assert all(a.since_restart >= AFTER for a in answers), "the pool did not recover"
    tickets = [t for a in answers for t in a.tickets]
    comments = [c for a in answers for c in a.comments]
    with psycopg.connect(cluster.dsn) as conn:
        stored_tickets = conn.execute(
            "select count(*) from tickets where id = any(%s::uuid[])", (tickets,)
        ).fetchone()
        stored_comments = conn.execute(
            "select count(*) from comments where id = any(%s::uuid[])", (comments,)
        ).fetchone()
    assert stored_tickets == (len(tickets),)
    assert stored_comments == (len(comments),)


async def test_a_database_down_for_longer_is_a_503_until_it_is_back(
    cluster: Cluster, server: str
) -> None:
    """Stopped, not restarted: each request waits ``pool_timeout`` for a connection, then
    is a 503; once the server is started again, requests succeed without a restart."""
    (token,) = await _tokens(cluster.dsn, 1)
    async with httpx.AsyncClient(
        base_url=f"{server}/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=REQUEST_SECONDS,
    ) as client:
        await asyncio.to_thread(cluster.stop)
        try:
            down = [
                await client.post("/tickets", json=ticket_body()),
                await client.get("/tickets"),
            ]
        finally:
            await asyncio.to_thread(cluster.start)

        async def created() -> httpx.Response | None:
            response = await client.post("/tickets", json=ticket_body(title="Back again"))
            return response if response.status_code == 201 else None

        again = await eventually(created, what="a ticket once the database is back")

    for response in down:
        _refused_cleanly(response)
    with psycopg.connect(cluster.dsn) as conn:
        titles = conn.execute("select title from tickets where id = %s", (again.json()["id"],))
        assert titles.fetchall() == [("Back again",)]
