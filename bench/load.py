"""HTTP load on a running ticketdesk: requests per second and latency, as JSON lines.

    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 --token TOKEN
        [--scenarios create,comment,list_open,...] [--concurrency 1,16]
        [--duration 10] [--requests 20000] [--words FILE]
        [--common error] [--rare wombatrix] [--absent xylotrombex]
        [--phrase "password reset link"]

Each scenario runs once per concurrency: that many clients send requests back to back,
each waiting for its answer, for ``--duration`` seconds or until ``--requests`` were
sent, after a few untimed requests. One JSON line each: scenario, concurrency, requests
(answered), errors (transport errors and answers other than 2xx), req_per_s (successful
requests per second), p50_ms, p95_ms and p99_ms (of the successful ones). ``--url`` may
be given more than once (or comma-separated): client n talks to URL n modulo their
number, as behind a round-robin balancer.

Scenarios: ``create`` (a ticket), ``comment`` (a public reply on one of 100 recent
tickets), ``list_open`` (status open, first page), ``list_status_assignee`` (open or in
progress, one agent's), ``list_priority`` (by priority, highest first), ``list_page40``
(the 40th page, newest first: its cursor is found once by following ``next_cursor``
39 times; only fetching page 40 is timed), ``detail`` (any ticket, by its number),
``search_common``, ``search_rare``, ``search_absent``, ``search_phrase``,
``search_exclude`` (the common word without the phrase's first: ``error -password``),
``search_number`` (``#`` and any ticket's number) (``q``) and
``similar`` (``GET /api/v1/tickets/similar?title=…``, reported as skipped when the server
answers 404 for it). The words come from ``--words`` (bench/fill.py's output, whose
``search words:`` line it reads) or the options, which default to fill.py's words.

The token should be staff's (list filters by assignee need it), and the server's
per-account limits raised, or create and comment soon get 429s::

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/ticketdesk_bench_100000 \\
        .venv/bin/ticketdesk token create --email admin@bench.test --name bench
    DATABASE_URL=… TICKETDESK_SECRET_KEY=… TICKETDESK_RATE_LIMIT_TICKETS_PER_HOUR=100000 \\
        TICKETDESK_RATE_LIMIT_COMMENTS_PER_HOUR=100000 .venv/bin/ticketdesk serve
"""

import argparse
import asyncio
import itertools
import json
import math
import random
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

API = "/api/v1"
SEARCH_WORDS = {
    "common": "error",
    "rare": "wombatrix",
    "absent": "xylotrombex",
    "phrase": "password reset link",
}
SCENARIOS = (
    "create",
    "comment",
    "list_open",
    "list_status_assignee",
    "list_priority",
    "list_page40",
    "detail",
    "search_common",
    "search_rare",
    "search_absent",
    "search_phrase",
    "search_exclude",
    "search_number",
    "similar",
)
WARMUP_REQUESTS = 3
TITLE_WORDS = [
    "export",
    "invoice",
    "login",
    "dashboard",
    "report",
    "upload",
    "search",
    "password",
    "reset",
    "settings",
    "sync",
    "calendar",
    "payment",
    "mobile",
    "notification",
]

# One request of a scenario: the client to send it with, and a random source.
Request = Callable[[httpx.AsyncClient, random.Random], Awaitable[httpx.Response]]


class NotServed(Exception):
    """The server does not have what a scenario needs (a route it answers 404 for)."""


@dataclass
class Context:
    """What the scenarios need, found once before they run."""

    ticket_ids: list[str]
    newest_number: int
    agent_id: str | None
    page40_cursor: str | None
    words: dict[str, str]
    similar_title: str


@dataclass
class Result:
    """One scenario at one concurrency."""

    scenario: str
    concurrency: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_sample: str | None = None
    elapsed: float = 0.0

    def line(self) -> dict[str, Any]:
        """The JSON line's fields."""
        ordered = sorted(self.latencies_ms)
        line: dict[str, Any] = {
            "scenario": self.scenario,
            "concurrency": self.concurrency,
            "requests": len(ordered) + self.errors,
            "errors": self.errors,
            "req_per_s": round(len(ordered) / self.elapsed, 1) if self.elapsed else 0.0,
            "p50_ms": _percentile(ordered, 50),
            "p95_ms": _percentile(ordered, 95),
            "p99_ms": _percentile(ordered, 99),
        }
        if self.error_sample is not None:
            line["error_sample"] = self.error_sample
        return line


def _percentile(ordered: Sequence[float], p: float) -> float | None:
    """The nearest-rank percentile of sorted values."""
    if not ordered:
        return None
    return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)], 2)


def _title(rng: random.Random) -> str:
    return "Load test: " + " ".join(rng.choices(TITLE_WORDS, k=5))


def requests_for(scenario: str, context: Context) -> Request:
    """The request a scenario repeats."""
    tickets = context.ticket_ids
    words = context.words

    def listing(params: dict[str, Any]) -> Request:
        return lambda client, rng: client.get(f"{API}/tickets", params=params)

    match scenario:
        case "create":
            return lambda client, rng: client.post(
                f"{API}/tickets",
                json={
                    "type": rng.choice(("bug", "support", "feature")),
                    "priority": rng.choice(("low", "medium", "high")),
                    "title": _title(rng),
                    "description": "Created by bench/load.py. " + _title(rng),
                },
            )
        case "comment":
            return lambda client, rng: client.post(
                f"{API}/tickets/{rng.choice(tickets)}/comments",
                json={"comment": "A reply from bench/load.py: " + _title(rng)},
            )
        case "detail":
            newest = context.newest_number
            return lambda client, rng: client.get(f"{API}/tickets/{rng.randint(1, newest)}")
        case "list_open":
            return listing({"status": "open"})
        case "list_status_assignee":
            if context.agent_id is None:
                raise NotServed("none of the newest 100 tickets is assigned")
            return listing({"status": ["open", "in_progress"], "assignee": context.agent_id})
        case "list_priority":
            return listing({"sort": "-priority"})
        case "list_page40":
            if context.page40_cursor is None:
                raise NotServed("fewer than 40 pages of tickets")
            return listing({"cursor": context.page40_cursor})
        case "search_phrase":
            return listing({"q": f'"{words["phrase"]}"'})
        case "search_exclude":
            return listing({"q": f"{words['common']} -{words['phrase'].split()[0]}"})
        case "search_number":
            newest = context.newest_number
            return lambda client, rng: client.get(
                f"{API}/tickets", params={"q": f"#{rng.randint(1, newest)}"}
            )
        case "similar":
            return lambda client, rng: client.get(
                f"{API}/tickets/similar", params={"title": context.similar_title}
            )
        case _ if scenario.startswith("search_"):
            return listing({"q": words[scenario.removeprefix("search_")]})
    raise ValueError(f"unknown scenario {scenario!r}")


async def prepare(client: httpx.AsyncClient, words: dict[str, str]) -> Context:
    """Recent tickets, an agent with tickets, and the cursor of page 40."""
    me = await client.get(f"{API}/me")
    me.raise_for_status()
    page = await client.get(f"{API}/tickets", params={"limit": 100})
    page.raise_for_status()
    items = page.json()["items"]
    if not items:
        raise SystemExit("the server has no tickets: fill it first (bench/fill.py)")
    agents = [t["assigned_to_user_id"] for t in items if t["assigned_to_user_id"]]
    cursor: str | None = None
    for _ in range(39):
        params = {"cursor": cursor} if cursor else {}
        response = await client.get(f"{API}/tickets", params=params)
        response.raise_for_status()
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    return Context(
        ticket_ids=[t["id"] for t in items],
        newest_number=items[0]["number"],
        agent_id=agents[0] if agents else None,
        page40_cursor=cursor,
        words=words,
        similar_title=items[len(items) // 2]["title"],
    )


async def run(
    clients: Sequence[httpx.AsyncClient],
    scenario: str,
    request: Request,
    *,
    concurrency: int,
    duration: float,
    max_requests: int,
    seed: int = 1,
) -> Result:
    """Send ``request`` from ``concurrency`` clients until the time or the count is up."""
    result = Result(scenario, concurrency)
    rng = random.Random(seed)
    for n in range(WARMUP_REQUESTS):
        await request(clients[n % len(clients)], rng)
    sent = itertools.count()
    started = time.perf_counter()
    deadline = started + duration

    async def worker(number: int) -> None:
        client = clients[number % len(clients)]
        own = random.Random(seed * 1000 + number)
        while time.perf_counter() < deadline and next(sent) < max_requests:
            began = time.perf_counter()
            try:
                response = await request(client, own)
            except httpx.HTTPError as exc:
                result.errors += 1
                result.error_sample = result.error_sample or f"{type(exc).__name__}: {exc}"
                continue
            if response.is_success:
                result.latencies_ms.append((time.perf_counter() - began) * 1000)
            else:
                result.errors += 1
                result.error_sample = result.error_sample or (
                    f"{response.status_code} {response.text[:200]}"
                )

    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    result.elapsed = time.perf_counter() - started
    return result


def open_clients(urls: Sequence[str], token: str, concurrency: int) -> list[httpx.AsyncClient]:
    """One client per server, each keeping up to ``concurrency`` connections open."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return [
        httpx.AsyncClient(
            base_url=url,
            headers={"Authorization": f"Bearer {token}"},
            limits=limits,
            timeout=60,
        )
        for url in urls
    ]


async def probe_similar(client: httpx.AsyncClient, title: str) -> None:
    """``NotServed`` when the server answers 404 for ``/tickets/similar``."""
    response = await client.get(f"{API}/tickets/similar", params={"title": title})
    if response.status_code == 404:
        raise NotServed("GET /api/v1/tickets/similar answered 404: this server has no such route")


async def main_async(args: argparse.Namespace) -> int:
    """Run every scenario at every concurrency; print a JSON line for each."""
    urls = [url for value in args.url for url in value.split(",") if url]
    words = dict(SEARCH_WORDS)
    if args.words:
        words.update(read_words(Path(args.words)))
    words.update({k: v for k in SEARCH_WORDS if (v := getattr(args, k)) is not None})
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}")
    failed = False
    setup_clients = open_clients(urls[:1], args.token, 1)
    try:
        context = await prepare(setup_clients[0], words)
    finally:
        await setup_clients[0].aclose()
    for scenario in scenarios:
        clients = open_clients(urls, args.token, max(concurrencies))
        try:
            if scenario == "similar":
                await probe_similar(clients[0], context.similar_title)
            request = requests_for(scenario, context)
            for concurrency in concurrencies:
                result = await run(
                    clients,
                    scenario,
                    request,
                    concurrency=concurrency,
                    duration=args.duration,
                    max_requests=args.requests,
                )
                failed = failed or result.errors > 0
                print(json.dumps(result.line()), flush=True)
        except NotServed as exc:
            print(json.dumps({"scenario": scenario, "skipped": str(exc)}), flush=True)
        finally:
            for client in clients:
                await client.aclose()
    return 1 if failed else 0


def read_words(path: Path) -> dict[str, str]:
    """The ``search words:`` of bench/fill.py's output."""
    for line in path.read_text().splitlines():
        if line.startswith("search words:"):
            words: dict[str, str] = json.loads(line.removeprefix("search words:"))
            return words
    raise SystemExit(f"{path} has no 'search words:' line (bench/fill.py prints one)")


def main() -> int:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", action="append", required=True, help="repeat for several")
    parser.add_argument("--token", required=True, help="a personal access token (staff's)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--concurrency", default="1,16", help="comma-separated")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run")
    parser.add_argument("--requests", type=int, default=20_000, help="at most, per run")
    parser.add_argument("--words", help="bench/fill.py's output, for its search words")
    for kind in SEARCH_WORDS:
        parser.add_argument(f"--{kind}", help=f"default: {SEARCH_WORDS[kind]!r}")
    args = parser.parse_args()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
