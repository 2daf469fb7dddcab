"""What metrics and JSON request logs cost a request, and what a scrape costs.

Calls the app in-process (no server, no network, no query) for ``GET /healthz`` and for
a web app page with an id, ``GET /tickets/51`` (the built web app's shell, from the
catch-all route), with metrics and JSON logs off, with metrics on, and with both on (the
JSON lines written to a buffer in memory), and prints the mean time a request in
microseconds: the best of 40 batches of 500, the variants in turn. Then times
``/metrics`` itself against a fresh database with every migration applied, after a
first, untimed scrape.

    .venv/bin/python bench/telemetry_overhead.py [--requests 500] [--rounds 40]

``BENCH_POSTGRES`` names the server (default ``postgresql://postgres@127.0.0.1:5432/postgres``);
the script makes a database of its own and drops it.
"""

import argparse
import asyncio
import io
import logging
import os
import secrets
import statistics
import time
import uuid
from typing import Any

import psycopg
from fastapi import FastAPI
from psycopg import sql
from psycopg.conninfo import make_conninfo

from ticketdesk import db
from ticketdesk.app import create_app
from ticketdesk.config import load_settings
from ticketdesk.telemetry import JsonFormatter

SERVER = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
TOKEN = secrets.token_urlsafe(24)


async def _call(app: FastAPI, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    """One request through the whole ASGI stack; its status."""
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bench"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }
    await app(scope, receive, send)
    return status


async def _mean_microseconds(app: FastAPI, path: str, requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        await _call(app, path, [])
    return (time.perf_counter() - started) / requests * 1e6


async def _requests(requests: int, rounds: int) -> None:
    base = load_settings(database_url=SERVER, secret_key="b" * 40)
    variants = {
        "off": base,
        "metrics": base.model_copy(update={"metrics_token": TOKEN}),
        "metrics+json": base.model_copy(update={"metrics_token": TOKEN, "log_format": "json"}),
    }
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("ticketdesk.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
    paths = ("/healthz", "/tickets/51")
    apps = {name: create_app(settings) for name, settings in variants.items()}
    best: dict[tuple[str, str], float] = {}
    for app in apps.values():  # the middleware stack is built on the first call
        for path in paths:
            await _call(app, path, [])
    # Short batches, the variants in turn, each figure the best of its batches: the one
    # least disturbed by the other processes on the machine.
    for _ in range(rounds):
        for name, app in apps.items():
            for path in paths:
                figure = await _mean_microseconds(app, path, requests)
                best[name, path] = min(best.get((name, path), figure), figure)
    print(f"{'':<14}" + "".join(f"{path:>16}" for path in paths))
    for name in apps:
        print(f"{name:<14}" + "".join(f"{best[name, path]:>13.1f} µs" for path in paths))
    print(f"(JSON lines written: {buffer.getvalue().count(chr(10))})")


async def _scrape(rounds: int) -> None:
    name = f"ticketdesk_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        dsn = make_conninfo(SERVER, dbname=name)
        await db.migrate(dsn)
        settings = load_settings(database_url=dsn, secret_key="b" * 40, metrics_token=TOKEN)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            auth = [(b"authorization", f"Bearer {TOKEN}".encode())]
            # The first scrape also makes the metrics it reports, and waits for the pool.
            assert await _call(app, "/metrics", auth) == 200
            timings = []
            for _ in range(rounds):
                started = time.perf_counter()
                assert await _call(app, "/metrics", auth) == 200
                timings.append((time.perf_counter() - started) * 1000)
        print(
            f"/metrics: median {statistics.median(timings):.2f} ms,"
            f" max {max(timings):.2f} ms over {rounds} scrapes"
        )
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=500, help="a batch")
    parser.add_argument("--rounds", type=int, default=40, help="batches of each")
    parser.add_argument("--scrapes", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(_requests(args.requests, args.rounds))
    asyncio.run(_scrape(args.scrapes))


if __name__ == "__main__":
    main()
