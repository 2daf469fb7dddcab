"""How much memory the server uses while a 250 MB attachment streams through it.

Starts the app under uvicorn in a subprocess against a fresh database on a real
PostgreSQL, with the attachment limit raised to 300 MB, uploads one 250 MB file as a
streamed multipart body, samples the server's resident set size throughout and prints
before / peak / after and the growth. The upload should move RSS by well under 30 MB.

    .venv/bin/python bench/attachment_upload_rss.py [--size-mb 250] [--backend local|s3]

``--backend s3`` stores into a moto S3 server started by this script (moto keeps the
bytes in this process, not the server's). ``BENCH_POSTGRES`` names the server
(default ``postgresql://postgres@127.0.0.1:5432/postgres``).
"""

import argparse
import asyncio
import hashlib
import logging
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import psutil
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ticketdesk import db, subscriptions
from ticketdesk.auth import service as auth
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.schemas import TicketCreate
from ticketdesk.users.service import create_user

MB = 1024 * 1024
BOUNDARY = "bench-boundary-7d1f"
SERVER = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
SERVE = """
import uvicorn
from ticketdesk.app import create_app
from ticketdesk.config import load_settings
uvicorn.run(create_app(load_settings()), host="127.0.0.1", port={port}, log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _database() -> Iterator[str]:
    name = f"ticketdesk_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield psycopg.conninfo.make_conninfo(SERVER, dbname=name)
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


@contextmanager
def _moto() -> Iterator[dict[str, str]]:
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per S3 request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106 (moto accepts any credentials)
    ).create_bucket(Bucket="bench")
    try:
        yield {
            "TICKETDESK_S3_BUCKET": "bench",
            "TICKETDESK_S3_ENDPOINT": endpoint,
            "TICKETDESK_S3_ACCESS_KEY_ID": "bench",
            "TICKETDESK_S3_SECRET_ACCESS_KEY": "bench",
            "TICKETDESK_S3_ALLOW_HTTP": "true",
        }
    finally:
        server.stop()


async def _prepare(dsn: str) -> tuple[str, str]:
    """Migrate, and make a submitter with a token and a ticket; return (token, ticket id)."""
    await db.migrate(dsn)
    subscriptions.install()
    async with await psycopg.AsyncConnection.connect(
        dsn, autocommit=True, row_factory=dict_row
    ) as conn:
        user = await create_user(
            conn,
            email="bench@example.com",
            name="Bench",
            role="user",
            password=secrets.token_urlsafe(),
            internal_domains=(),
        )
        token = await auth.create_token(conn, user.id, "bench")
        actor = auth.Actor(id=user.id, email=user.email, name=user.name, role=user.role)
        async with conn.transaction():
            ticket, _ = await tickets.create_ticket(
                conn,
                actor,
                TicketCreate(
                    type="bug",
                    title="A very large log file to attach",
                    description="The benchmark uploads one large file to this ticket.",
                ),
                idempotency_key=None,
            )
    return token.token, str(ticket.id)


class RssSampler:
    """Samples a process's resident set size every few milliseconds, in a thread."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self._process = psutil.Process(pid)
        self._interval = interval
        self._stop = threading.Event()
        self.samples: list[int] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self._process.memory_info().rss)
            time.sleep(self._interval)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _body(size: int, digest: "hashlib._Hash") -> tuple[Iterator[bytes], int]:
    """A multipart body with one ``size``-byte zip-looking file, and its length."""
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="files"; filename="huge.zip"\r\n'
        "Content-Type: application/zip\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    block = os.urandom(MB)

    def chunks() -> Iterator[bytes]:
        yield head
        first = b"PK\x03\x04" + block[4:]
        for n in range(size // MB):
            piece = first if n == 0 else block
            digest.update(piece)
            yield piece
        yield tail

    return chunks(), len(head) + size + len(tail)


def _rss_mb(value: int) -> str:
    return f"{value / MB:7.1f} MB"


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=250)
    parser.add_argument("--backend", choices=["local", "s3"], default="local")
    args = parser.parse_args()
    size = args.size_mb * MB

    with (
        _database() as dsn,
        tempfile.TemporaryDirectory(prefix="ticketdesk-bench-") as data_dir,
        _moto() if args.backend == "s3" else _nothing() as s3_env,
    ):
        token, ticket_id = asyncio.run(_prepare(dsn))
        port = _free_port()
        env = {
            **os.environ,
            **s3_env,
            "DATABASE_URL": dsn,
            "TICKETDESK_DATA_DIR": data_dir,
            "TICKETDESK_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
            "TICKETS_MAX_ATTACHMENT_SIZE_MB": "300",
        }
        server = subprocess.Popen([sys.executable, "-c", SERVE.format(port=port)], env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=base, headers=headers, timeout=600) as client:
                _wait_until_up(client)
                # Warm up: the first request imports and allocates what every request uses.
                warm = client.post(
                    f"/api/v1/tickets/{ticket_id}/attachments",
                    files=[("files", ("warm.zip", b"PK\x03\x04" + bytes(4096), "application/zip"))],
                )
                warm.raise_for_status()
                time.sleep(1)
                before = psutil.Process(server.pid).memory_info().rss
                digest = hashlib.sha256()
                chunks, length = _body(size, digest)
                started = time.monotonic()
                with RssSampler(server.pid) as sampler:
                    response = client.post(
                        f"/api/v1/tickets/{ticket_id}/attachments",
                        content=chunks,
                        headers={
                            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                            "Content-Length": str(length),
                        },
                    )
                    elapsed = time.monotonic() - started
                    time.sleep(1)
                response.raise_for_status()
                after = psutil.Process(server.pid).memory_info().rss
            stored = response.json()[0]
            assert stored["size_bytes"] == size, stored
            assert stored["sha256"] == digest.hexdigest(), "stored bytes differ from those sent"
            peak = max(sampler.samples)
            print(f"backend:          {args.backend}")
            print(
                f"uploaded:         {size / MB:.0f} MB in {elapsed:.1f} s "
                f"({size / MB / elapsed:.0f} MB/s), sha256 verified"
            )
            print(f"samples:          {len(sampler.samples)}")
            print(f"server RSS before {_rss_mb(before)}")
            print(f"server RSS peak   {_rss_mb(peak)}")
            print(f"server RSS after  {_rss_mb(after)}")
            print(f"peak - before     {_rss_mb(peak - before)}")
            return 0 if peak - before < 30 * MB else 1
        finally:
            server.terminate()
            server.wait(timeout=30)


@contextmanager
def _nothing() -> Iterator[dict[str, str]]:
    yield {}


def _wait_until_up(client: httpx.Client) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


if __name__ == "__main__":
    sys.exit(main())
