"""/metrics: Prometheus's scrape, behind a bearer token, with nothing there without one.

The request figures are kept per process (or per ``PROMETHEUS_MULTIPROC_DIR``) and grow
over a test session, so tests look for the series their own requests made.
"""

import os
import subprocess
import sys
import textwrap
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import Accounts, ticket_body
from ticketdesk.app import create_app
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.jobs.queue import defer

TOKEN = "metrics-token-for-the-tests-0123"
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Metrics on, behind the test's token."""
    return {"metrics_token": TOKEN}


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Each sample of a scrape by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def _scrape(client: AsyncClient) -> str:
    response = await client.get("/metrics", headers=SCRAPE)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return response.text


async def test_without_a_token_set_there_is_no_metrics(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"metrics_token": None}))
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as c:
        response = await c.get("/metrics", headers=SCRAPE)
        unknown = await c.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == unknown.json()["code"] == "not_found"


async def test_a_scrape_without_the_token_is_refused(anon: AsyncClient) -> None:
    missing = await anon.get("/metrics")
    basic = await anon.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
    wrong = await anon.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"})

    assert missing.status_code == basic.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["code"] == "metrics_token_missing"
    assert wrong.status_code == 403
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json()["code"] == "metrics_token_wrong"
    assert TOKEN not in wrong.text


async def test_requests_are_counted_by_route_template(
    app: FastAPI, anon: AsyncClient, accounts: Accounts
) -> None:
    admin = accounts.admin.client
    created = await admin.post("/api/v1/tickets", json=ticket_body())
    assert created.status_code == 201, created.text
    ticket_id = str(created.json()["id"])
    for _ in range(3):
        assert (await admin.get(f"/api/v1/tickets/{ticket_id}")).status_code == 200
    stranger = f"/api/v1/nothing-{uuid.uuid4().hex}"
    assert (await anon.get(stranger)).status_code == 404
    assert (await anon.request("BREW", "/api/v1/tickets")).status_code == 405

    text = await _scrape(anon)
    samples = _samples(text)

    route = "/api/v1/tickets/{id}"
    assert (
        _value(samples, "ticketdesk_http_requests_total", route=route, method="GET", status="200")
        or 0
    ) >= 3
    assert (
        _value(
            samples,
            "ticketdesk_http_request_duration_seconds_count",
            route=route,
            method="GET",
            status_class="2xx",
        )
        or 0
    ) >= 3
    assert (
        _value(
            samples, "ticketdesk_http_requests_total", route="unmatched", method="GET", status="404"
        )
        or 0
    ) >= 1
    assert (
        _value(
            samples,
            "ticketdesk_http_requests_total",
            route="/api/v1/tickets",
            method="other",
            status="405",
        )
        or 0
    ) >= 1
    # Templates, never paths: no id, no made-up path and no made-up method adds a series.
    assert ticket_id not in text
    assert stranger not in text
    assert "BREW" not in text
    assert "/metrics" not in app.openapi()["paths"]
    assert "/healthz" not in app.openapi()["paths"]


async def test_the_scrape_counts_itself_as_metrics_not_as_the_web_app(anon: AsyncClient) -> None:
    await _scrape(anon)

    samples = _samples(await _scrape(anon))

    assert (
        _value(
            samples, "ticketdesk_http_requests_total", route="/metrics", method="GET", status="200"
        )
        or 0
    ) >= 1


async def test_jobs_waiting_and_due_are_reported(anon: AsyncClient, conn: Connection) -> None:
    async with conn.transaction():
        await defer(conn, "some.task", answer=1)
        await defer(conn, "some.task", run_at=datetime.now(UTC) + timedelta(hours=1), answer=2)
        gave_up = await defer(conn, "some.task", answer=3)
    # As a worker leaves a job that gave up.
    await conn.execute("update procrastinate_jobs set status = 'failed' where id = %s", (gave_up,))

    samples = _samples(await _scrape(anon))

    assert _value(samples, "ticketdesk_jobs", queue="default", state="todo") == 2
    assert _value(samples, "ticketdesk_jobs", queue="default", state="doing") == 0
    assert _value(samples, "ticketdesk_jobs", queue="default", state="failed") == 1
    # One is due now; the other waits for its time.
    assert _value(samples, "ticketdesk_jobs_due", queue="default") == 1


async def test_pool_and_process_figures_are_reported(anon: AsyncClient) -> None:
    samples = _samples(await _scrape(anon))

    assert (_value(samples, "ticketdesk_db_pool_size") or 0) >= 1
    assert _value(samples, "ticketdesk_db_pool_max_size") == 10
    assert _value(samples, "ticketdesk_db_pool_available") is not None
    assert _value(samples, "ticketdesk_db_pool_waiting") == 0
    assert (_value(samples, "process_resident_memory_bytes") or 0) > 0


# One server process: serves ``requests`` health checks, or scrapes, then stops, or is
# stopped as if killed.
_PROCESS = textwrap.dedent(
    """
    import asyncio, os, sys
    from httpx import ASGITransport, AsyncClient
    from ticketdesk.app import create_app
    from ticketdesk.config import load_settings

    async def main(database_url, data_dir, requests, killed):
        settings = load_settings(
            database_url=database_url,
            data_dir=data_dir,
            secret_key="test-secret-key-that-is-long-enough-0123456789",
            metrics_token="{token}",
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = ASGITransport(app=app)
            async with AsyncClient(transport=transport, base_url="http://testserver") as c:
                for _ in range(requests):
                    assert (await c.get("/healthz")).status_code == 200
                if requests == 0:
                    scraped = await c.get("/metrics", headers={{"Authorization": "Bearer {token}"}})
                    print(scraped.text)
            if killed:  # as a killed process ends: once sampled, without its lifespan's end
                await asyncio.sleep(0)
                os._exit(0)

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "killed"))
    """
).format(token=TOKEN)


def test_several_processes_report_together(database_url: str, tmp_path: Path) -> None:
    shared = tmp_path / "metrics"
    shared.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared)}

    def run(requests: int, end: str = "stopped") -> str:
        data_dir = str(tmp_path / "data")
        done = subprocess.run(
            [sys.executable, "-c", _PROCESS, database_url, data_dir, str(requests), end],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    run(2)
    run(3, "killed")
    samples = _samples(run(0))

    # Both processes' requests, though neither is running any more, and one was killed.
    assert (
        _value(
            samples, "ticketdesk_http_requests_total", route="/healthz", method="GET", status="200"
        )
        == 5
    )
    # Only the live process's pool and figures: the others' connections are gone.
    assert _value(samples, "ticketdesk_db_pool_max_size") == 10
    assert (
        len([key for key in samples if key[0] == "ticketdesk_process_resident_memory_bytes"]) == 1
    )
