"""Several ticketdesk processes on one database: checks that they behave as one.

    .venv/bin/python -m bench.replicas [--redis redis://127.0.0.1:6379/11] [--seconds 10]

Run from the repository root (it uses the fake GitHub and the SMTP server of tests/).
On a fresh database of the PostgreSQL that ``BENCH_POSTGRES`` names (default
``postgresql://postgres@127.0.0.1:5432/postgres``), dropped at the end, it starts two
``ticketdesk serve --no-worker`` (API A and API B) and two ``ticketdesk worker``, all
with the same secret key, attachment directory and, with ``--redis``, Redis. The GitHub
integration points at a fake GitHub and mail goes to an SMTP server, both run by this
script. Then it prints a line per check, PASS or FAIL with what it saw:

a) a comment made through A reaches a live-update stream (server-sent events) open on B;
b) limits are shared: failed sign-ins through A and B count together (kept in
   PostgreSQL), and so do comments per hour (counted in Redis; without ``--redis``
   each process counts its own, which the line reports as NOTE);
c) jobs take effect once with two workers: each new ticket gets exactly one GitHub
   issue, and staff exactly one mail about it;
d) an attachment uploaded through A downloads through B byte for byte;
e) throughput: tickets created per second by 16 clients for ``--seconds`` through A
   alone, then through A and B (clients split between them), with the processes
   started again without GitHub and mail so that no job competes for the cores.

Exits 1 if a check fails or a process exits while they run. The processes are stopped
on exit, Ctrl-C included; their logs are kept in a temporary directory only when a check
failed or a process did not start. With ``--redis``, the rate-limit counters of the
throw-away accounts (and 8 failed sign-ins from 127.0.0.1) stay in that Redis database
until they expire, within the hour: give it a database number of its own.
"""

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import httpx
import psycopg
from bench import load
from psycopg import sql
from tests.fakes.github import FakeGitHub
from tests.mailservers import SmtpServer

SERVER = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
TICKETDESK = str(Path(sys.executable).with_name("ticketdesk"))
API = "/api/v1"
REPO = "bench/replicas"
COMMENTS_PER_HOUR = 10
GITHUB_TICKETS = 5
STAFF_EMAIL = "admin@example.com"
PASSWORD = "replicas-bench-password"  # noqa: S105 (accounts of a throw-away database)
# Waits for jobs to take effect, and then for a duplicate that would come late.
JOB_DEADLINE_SECONDS = 60
SETTLE_SECONDS = 5


class CheckFailed(Exception):
    """A check did not hold; the message says what was seen."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def _database() -> Iterator[str]:
    name = f"ticketdesk_replicas_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield urlsplit(SERVER)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


@dataclass
class Process:
    """A ticketdesk process and the file its output goes to."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 15) -> str:
        """The end of what it printed."""
        text = self.log.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(f"    {self.name}: {line}" for line in text)


@dataclass
class Cluster:
    """The running processes: API URLs and everything to stop."""

    urls: list[str] = field(default_factory=list)
    processes: list[Process] = field(default_factory=list)


def _cli(env: dict[str, str], *args: str) -> str:
    """Run a ticketdesk command; its output."""
    done = subprocess.run(
        [TICKETDESK, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"ticketdesk {args[0]} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def _start(env: dict[str, str], logs: Path, name: str, *args: str) -> Process:
    log = logs / f"{name}.log"
    with log.open("ab") as out:
        popen = subprocess.Popen(
            [TICKETDESK, *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Its own session: Ctrl-C reaches this script, which stops them in order.
            start_new_session=True,
        )
    return Process(name, popen, log)


def _stop(processes: list[Process]) -> None:
    for process in processes:
        if process.popen.poll() is None:
            process.popen.terminate()
    deadline = time.monotonic() + 20
    for process in processes:
        try:
            process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            # Its whole session: any process it started goes with it.
            os.killpg(process.popen.pid, signal.SIGKILL)
            process.popen.wait()


@contextlib.contextmanager
def cluster(
    env: dict[str, str], logs: Path, *, apis: int = 2, workers: int = 2
) -> Iterator[Cluster]:
    """``apis`` API processes and ``workers`` job workers, up until the block ends."""
    running = Cluster()
    try:
        for n in range(apis):
            port = _free_port()
            name = f"api-{'AB'[n]}"
            running.processes.append(
                _start(env, logs, name, "serve", "--no-worker", "--port", str(port))
            )
            running.urls.append(f"http://127.0.0.1:{port}")
        for n in range(workers):
            running.processes.append(_start(env, logs, f"worker-{n + 1}", "worker"))
        _wait_until_up(running)
        yield running
    finally:
        _stop(running.processes)


def _wait_until_up(running: Cluster) -> None:
    deadline = time.monotonic() + 60
    waiting = list(running.urls)
    workers = [p for p in running.processes if p.name.startswith("worker")]
    while waiting or workers:
        for process in running.processes:
            if process.popen.poll() is not None:
                raise RuntimeError(f"{process.name} exited early:\n{process.tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError("the processes did not start within 60 s")
        for url in list(waiting):
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    waiting.remove(url)
        workers = [p for p in workers if "is running jobs" not in p.log.read_text(errors="replace")]
        time.sleep(0.2)


def _client(url: str, token: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(base_url=url, headers=headers, timeout=30)


@dataclass
class Accounts:
    """Tokens of the accounts the checks act as."""

    admin: str
    customer: str
    limited: str


def _accounts(env: dict[str, str]) -> Accounts:
    tokens = []
    for email, role in (
        (STAFF_EMAIL, "admin"),
        ("customer@example.com", "user"),
        ("limited@example.com", "user"),
    ):
        _cli(env, "createuser", "--email", email, "--role", role, "--password", PASSWORD)
        tokens.append(_cli(env, "token", "create", "--email", email, "--name", "replicas"))
    return Accounts(*tokens)


async def _new_ticket(client: httpx.AsyncClient, title: str) -> dict[str, Any]:
    response = await client.post(
        f"{API}/tickets",
        json={"type": "bug", "title": title, "description": "Opened by bench/replicas.py."},
    )
    if response.status_code != 201:
        raise CheckFailed(f"creating a ticket answered {response.status_code}: {response.text}")
    ticket: dict[str, Any] = response.json()
    return ticket


@contextlib.asynccontextmanager
async def _event_stream(
    client: httpx.AsyncClient,
) -> AsyncIterator["asyncio.Queue[dict[str, Any]]"]:
    """The ``event: ticket`` frames of a live-update stream, as they arrive."""
    frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    opened = asyncio.Event()
    refused: list[int] = []

    async def read() -> None:
        timeout = httpx.Timeout(None, connect=5)
        async with client.stream("GET", f"{API}/events/stream", timeout=timeout) as response:
            if response.status_code != 200:
                refused.append(response.status_code)
                opened.set()
                return
            event = None
            async for line in response.aiter_lines():
                opened.set()
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: ") and event == "ticket":
                    frames.put_nowait(json.loads(line.removeprefix("data: ")))
                elif not line:
                    event = None

    reader = asyncio.create_task(read())
    try:
        try:
            await asyncio.wait_for(opened.wait(), 10)
        except TimeoutError:
            raise CheckFailed("B's stream sent nothing within 10 s") from None
        if refused:
            raise CheckFailed(f"B's stream answered {refused[0]}")
        await asyncio.sleep(0.5)  # the first line is sent as the stream subscribes
        yield frames
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


async def check_live(a: str, b: str, accounts: Accounts) -> str:
    """a) A comment through A reaches a stream on B."""
    async with _client(a, accounts.customer) as on_a, _client(b, accounts.admin) as on_b:
        ticket = await _new_ticket(on_a, "Live updates across processes")
        async with _event_stream(on_b) as frames:
            sent = time.perf_counter()
            response = await on_a.post(
                f"{API}/tickets/{ticket['id']}/comments", json={"comment": "Seen on B?"}
            )
            if response.status_code != 201:
                raise CheckFailed(f"the comment through A answered {response.status_code}")
            deadline = sent + 10
            while (left := deadline - time.perf_counter()) > 0:
                try:
                    frame = await asyncio.wait_for(frames.get(), left)
                except TimeoutError:
                    break
                if frame["ticket_id"] == ticket["id"] and frame["kind"] == "commented":
                    took = (time.perf_counter() - sent) * 1000
                    return f"the comment made through A reached B's stream in {took:.0f} ms"
    raise CheckFailed("B's stream did not show the comment made through A within 10 s")


async def check_sign_in_limit(a: str, b: str) -> str:
    """b) Failed sign-ins through A and B count together (PostgreSQL)."""
    statuses = []
    async with _client(a) as on_a, _client(b) as on_b:
        for n in range(8):
            client = on_a if n % 2 == 0 else on_b
            response = await client.post(
                f"{API}/auth/login", json={"email": STAFF_EMAIL, "password": "wrong"}
            )
            statuses.append(response.status_code)
    seen = " ".join(f"{'AB'[n % 2]}:{status}" for n, status in enumerate(statuses))
    if statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}:
        return f"failed sign-ins alternating A/B, locked after 5 in all: {seen}"
    raise CheckFailed(f"expected 5 x 401 then 429 (5 failures per address and client): {seen}")


async def check_comment_limit(a: str, b: str, accounts: Accounts, redis: bool) -> tuple[str, str]:
    """b) Comments per hour, counted in Redis when there is one."""
    async with _client(a, accounts.limited) as on_a, _client(b, accounts.limited) as on_b:
        ticket = await _new_ticket(on_a, "Comments counted across processes")
        accepted = 0
        for n in range(3 * COMMENTS_PER_HOUR):
            client = on_a if n % 2 == 0 else on_b
            response = await client.post(
                f"{API}/tickets/{ticket['id']}/comments", json={"comment": f"Comment {n}"}
            )
            accepted += response.status_code == 201
            if response.status_code not in (201, 429):
                raise CheckFailed(f"a comment answered {response.status_code}: {response.text}")
    seen = f"{accepted} of {3 * COMMENTS_PER_HOUR} comments alternating A/B accepted"
    limit = f"with a limit of {COMMENTS_PER_HOUR} an hour"
    if redis:
        if accepted == COMMENTS_PER_HOUR:
            return "PASS", f"{seen} {limit}: one count in Redis"
        raise CheckFailed(f"{seen} {limit}: not one shared count")
    if accepted == 2 * COMMENTS_PER_HOUR:
        return "NOTE", f"{seen} {limit}: without Redis each process counts its own"
    raise CheckFailed(f"{seen} {limit}: neither one count nor one per process")


async def check_jobs_once(
    a: str, b: str, accounts: Accounts, github: FakeGitHub, smtp: SmtpServer
) -> str:
    """c) Each new ticket: one GitHub issue, one mail to staff, with two workers."""
    owner, name = REPO.split("/")
    tickets = []
    async with _client(a, accounts.customer) as on_a, _client(b, accounts.customer) as on_b:
        for n in range(GITHUB_TICKETS):
            title = f"Mirrored once, number {n + 1} {secrets.token_hex(3)}"
            tickets.append(await _new_ticket(on_a if n % 2 == 0 else on_b, title))
    subjects = {f"[#{t['number']}] {t['title']}" for t in tickets}

    titles = {t["title"] for t in tickets}

    def ours(title: str) -> bool:
        return any(mine in title for mine in titles)

    def counts() -> tuple[int, int, Counter[tuple[str, str]]]:
        """Issues about these tickets, requests that created one, mails about them."""
        issues = sum(ours(issue["title"]) for issue in github.issues(owner, name))
        creations = sum(
            1
            for r in github.requests
            if r.method == "POST"
            and r.path == f"/repos/{REPO}/issues"
            and r.status == 201
            and ours(r.json["title"])
        )
        mails = Counter(
            (str(m["To"]), str(m["Subject"])) for m in smtp.messages if m["Subject"] in subjects
        )
        return issues, creations, mails

    def to_staff(mails: Counter[tuple[str, str]]) -> set[str]:
        return {subject for to, subject in mails if STAFF_EMAIL in to}

    deadline = time.monotonic() + JOB_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        issues, _, mails = counts()
        if issues >= GITHUB_TICKETS and to_staff(mails) == subjects:
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(SETTLE_SECONDS)
    issues, creations, mails = counts()
    async with _client(a, accounts.admin) as on_a:
        linked = set()
        for ticket in tickets:
            detail = (await on_a.get(f"{API}/tickets/{ticket['id']}")).json()
            linked.add(detail["github_issue_number"])
    seen = (
        f"{GITHUB_TICKETS} tickets: {issues} issues, {creations} issue creations, "
        f"{len(linked - {None})} distinct issue numbers on the tickets; "
        f"{sum(mails.values())} mails about them to {', '.join(sorted({to for to, _ in mails}))}, "
        f"at most {max(mails.values(), default=0)} per recipient and ticket"
    )
    expected_mails = to_staff(mails) == subjects and set(mails.values()) == {1}
    if issues == creations == len(linked - {None}) == GITHUB_TICKETS and expected_mails:
        return seen
    raise CheckFailed(seen)


async def check_attachment(a: str, b: str, accounts: Accounts) -> str:
    """d) Uploaded through A, downloaded through B, the same bytes."""
    content = b"PK\x03\x04" + os.urandom(1024 * 1024 - 4)
    async with _client(a, accounts.customer) as on_a, _client(b, accounts.customer) as on_b:
        ticket = await _new_ticket(on_a, "An attachment across processes")
        response = await on_a.post(
            f"{API}/tickets/{ticket['id']}/attachments",
            files=[("files", ("logs.zip", content, "application/zip"))],
        )
        if response.status_code != 201:
            raise CheckFailed(f"the upload through A answered {response.status_code}")
        attachment = response.json()[0]
        download = await on_b.get(attachment["download_url"])
    if download.status_code != 200:
        raise CheckFailed(f"the download through B answered {download.status_code}")
    if download.content != content:
        raise CheckFailed(f"B served {len(download.content)} bytes that differ from those sent")
    digest = hashlib.sha256(content).hexdigest()[:12]
    return f"1 MiB uploaded through A, downloaded through B, identical (sha256 {digest}…)"


async def measure_creates(urls: list[str], token: str, seconds: float) -> dict[str, Any]:
    """Tickets created per second by 16 clients spread over ``urls``."""
    clients = load.open_clients(urls, token, 16)
    try:
        context = load.Context([], 0, None, None, dict(load.SEARCH_WORDS), "")
        request = load.requests_for("create", context)
        result = await load.run(
            clients, "create", request, concurrency=16, duration=seconds, max_requests=100_000
        )
    finally:
        for client in clients:
            await client.aclose()
    return result.line()


class Report:
    """The check lines, and whether any failed."""

    def __init__(self) -> None:
        self.failed = False

    def fail(self, label: str, detail: str) -> None:
        """Print a FAIL line."""
        self.failed = True
        print(f"FAIL {label}: {detail}", flush=True)

    async def check(self, label: str, check: Any) -> None:
        """Run a check coroutine and print its line."""
        try:
            outcome = await check
        except CheckFailed as exc:
            self.fail(label, str(exc))
            return
        except Exception as exc:  # a check that breaks has not held either
            self.fail(label, f"{type(exc).__name__}: {exc}")
            return
        status, detail = outcome if isinstance(outcome, tuple) else ("PASS", outcome)
        print(f"{status} {label}: {detail}", flush=True)


def _still_running(report: Report, running: Cluster) -> None:
    """A FAIL line if a process exited while checks ran: they did not prove what they say."""
    exited = [p.name for p in running.processes if p.popen.poll() is not None]
    if exited:
        report.fail("processes", f"{', '.join(exited)} exited while the checks ran")


def _interrupted(signum: int, frame: object) -> NoReturn:
    raise KeyboardInterrupt


def main() -> int:
    """Start the processes, run the checks, print a line each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis", help="a Redis URL for the processes to share")
    parser.add_argument("--seconds", type=float, default=10.0, help="per throughput run")
    args = parser.parse_args()
    # Stop the processes on Ctrl-C, even when started where SIGINT is ignored (a shell's
    # background job), and on SIGTERM alike.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupted)
    report = Report()
    logs = Path(tempfile.mkdtemp(prefix="ticketdesk-replicas-"))
    try:
        with (
            _database() as dsn,
            tempfile.TemporaryDirectory(prefix="ticketdesk-replicas-data-") as data_dir,
            FakeGitHub() as github,
        ):
            smtp = SmtpServer()
            smtp.start()
            try:
                base = {
                    **{k: v for k, v in os.environ.items() if not k.startswith("TICKET")},
                    "DATABASE_URL": dsn,
                    "TICKETDESK_SECRET_KEY": secrets.token_urlsafe(48),
                    "TICKETDESK_DATA_DIR": data_dir,
                    "TICKETDESK_LOG_LEVEL": "warning",
                    **({"REDIS_URL": args.redis} if args.redis else {}),
                }
                print(_cli(base, "migrate"))
                accounts = _accounts(base)
                env = {
                    **base,
                    "TICKETDESK_RATE_LIMIT_COMMENTS_PER_HOUR": str(COMMENTS_PER_HOUR),
                    "TICKETS_GITHUB_ENABLED": "true",
                    "TICKETS_GITHUB_REPO": REPO,
                    "TICKETS_GITHUB_TOKEN": github.token,
                    "TICKETS_GITHUB_API_URL": github.base_url,
                    "TICKETS_GITHUB_AUTO_CREATE_ISSUES": "true",
                    "TICKETDESK_SMTP_URL": smtp.url,
                    "TICKETDESK_NOTIFY_BURST_SECONDS": "1",
                }
                redis = "Redis " + ("at " + args.redis if args.redis else "not used")
                print(f"2 serve --no-worker, 2 worker; {redis}")
                with cluster(env, logs) as running:
                    a, b = running.urls
                    asyncio.run(run_checks(report, a, b, accounts, github, smtp, bool(args.redis)))
                    _still_running(report, running)
                    if report.failed:
                        print("\n".join(p.tail() for p in running.processes))
            finally:
                smtp.stop()
            env = {**base, "TICKETDESK_RATE_LIMIT_TICKETS_PER_HOUR": "100000"}
            with cluster(env, logs) as running:
                asyncio.run(run_throughput(report, running.urls, accounts, args.seconds))
                _still_running(report, running)
    except KeyboardInterrupt:
        print("interrupted; processes stopped", file=sys.stderr)
        shutil.rmtree(logs)
        return 130
    except RuntimeError as exc:
        print(f"FAIL start-up: {exc} (logs in {logs})")
        return 1
    if report.failed:
        print(f"logs in {logs}")
        return 1
    shutil.rmtree(logs)
    return 0


async def run_checks(
    report: Report,
    a: str,
    b: str,
    accounts: Accounts,
    github: FakeGitHub,
    smtp: SmtpServer,
    redis: bool,
) -> None:
    """Checks a) to d)."""
    await report.check("a) live update A → B", check_live(a, b, accounts))
    await report.check("b) failed sign-ins shared", check_sign_in_limit(a, b))
    await report.check("b) comment limit shared", check_comment_limit(a, b, accounts, redis))
    await report.check("c) jobs take effect once", check_jobs_once(a, b, accounts, github, smtp))
    await report.check("d) attachment A → B", check_attachment(a, b, accounts))


async def run_throughput(
    report: Report, urls: list[str], accounts: Accounts, seconds: float
) -> None:
    """Check e): creates per second through one API process, then two."""

    async def measure() -> str:
        one = await measure_creates(urls[:1], accounts.admin, seconds)
        two = await measure_creates(urls, accounts.admin, seconds)
        for line in (one, two):
            if line["errors"]:
                raise CheckFailed(f"errors while creating: {json.dumps(line)}")
        ratio = two["req_per_s"] / one["req_per_s"] if one["req_per_s"] else 0
        return (
            f"16 clients, {seconds:.0f} s each: 1 API process {one['req_per_s']} creates/s "
            f"(p50 {one['p50_ms']} ms, p99 {one['p99_ms']} ms), 2 API processes "
            f"{two['req_per_s']} creates/s (p50 {two['p50_ms']} ms, p99 {two['p99_ms']} ms), "
            f"ratio {ratio:.2f}"
        )

    await report.check("e) throughput", measure())


if __name__ == "__main__":
    sys.exit(main())
