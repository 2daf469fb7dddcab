"""The webhook endpoint on a real server: refused from its headers before the body is
read, and a body hashed as it streams in.

A raw socket sends the headers and only part of the body (or none) and waits: the
answer has to come while the client still owes the server almost all of what it declared.
"""

import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn

from tests.fakes.github import FakeGitHub
from tests.github.support import WEBHOOK, fixture_bytes, github_settings, sign
from ticketdesk.app import create_app
from ticketdesk.config import Settings

DECLARED = 20 * 1024 * 1024  # under the route's 25 MB limit
ANSWER_WITHIN = 5.0


@pytest.fixture
def server(settings: Settings) -> Iterator[tuple[str, int]]:
    """ticketdesk on a free port of 127.0.0.1, until the test ends."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield "127.0.0.1", port
    running.should_exit = True
    thread.join(timeout=10)


def headers(**extra: str) -> dict[str, str]:
    return {
        "Host": "desk.example.com",
        "Content-Type": "application/json",
        "X-GitHub-Event": "issue_comment",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "User-Agent": "GitHub-Hookshot/test",
        **extra,
    }


def answer_before_body(
    address: tuple[str, int], sent_headers: dict[str, str], first_bytes: bytes
) -> tuple[int, dict[str, Any], float]:
    """Send the request line, ``sent_headers`` and ``first_bytes`` of the body, then wait
    for the answer without sending more: its status, problem document and delay."""
    head = f"POST {WEBHOOK} HTTP/1.1\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in sent_headers.items()
    )
    with socket.create_connection(address, timeout=ANSWER_WITHIN) as sock:
        started = time.monotonic()
        sock.sendall(head.encode() + b"\r\n" + first_bytes)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)  # a timeout here: the server is waiting for the body
            assert chunk, "the server closed the connection without answering"
            received += chunk
        waited = time.monotonic() - started
        head_part, _, body = received.partition(b"\r\n\r\n")
        lines = head_part.decode().split("\r\n")
        length = next(
            int(line.split(":", 1)[1])
            for line in lines
            if line.lower().startswith("content-length:")
        )
        while len(body) < length:
            chunk = sock.recv(65536)
            assert chunk
            body += chunk
    return int(lines[0].split()[1]), json.loads(body), waited


class TestRefusedFromHeaders:
    @pytest.mark.parametrize(
        ("extra", "status", "code"),
        [
            ({}, 401, "missing_signature"),
            (
                {"X-Hub-Signature-256": sign(b"x"), "X-GitHub-Event": "star"},
                422,
                "unsupported_event",
            ),
            ({"X-Hub-Signature-256": sign(b"x"), "X-GitHub-Delivery": ""}, 422, "missing_header"),
            (
                {"X-Hub-Signature-256": sign(b"x"), "Content-Type": "text/plain"},
                415,
                "unsupported_media_type",
            ),
        ],
        ids=["no signature", "unknown event", "no delivery id", "not JSON"],
    )
    def test_declared_body_never_read(
        self, server: tuple[str, int], extra: dict[str, str], status: int, code: str
    ) -> None:
        sent = headers(**{"Content-Length": str(DECLARED), **extra})

        answered, problem, waited = answer_before_body(server, sent, b"")

        assert (answered, problem["code"]) == (status, code)
        assert waited < ANSWER_WITHIN

    def test_chunked_body_never_read(self, server: tuple[str, int]) -> None:
        # Two 64 KB chunks of an endless chunked body, then nothing more.
        chunk = b"%x\r\n%s\r\n" % (65536, b" " * 65536)
        sent = headers(**{"Transfer-Encoding": "chunked"})

        answered, problem, _ = answer_before_body(server, sent, chunk * 2)

        assert (answered, problem["code"]) == (401, "missing_signature")


class TestSecretUnset:
    @pytest.fixture
    def settings_overrides(self, gh: FakeGitHub) -> dict[str, Any]:
        return github_settings(gh, webhook_secret=None)

    def test_declared_body_never_read(self, server: tuple[str, int]) -> None:
        body = fixture_bytes("ping")
        sent = headers(**{"Content-Length": str(DECLARED), "X-Hub-Signature-256": sign(body)})

        answered, problem, _ = answer_before_body(server, sent, body)

        assert (answered, problem["code"]) == (401, "webhook_secret_unset")


class Sender:
    """A body sent in ``size``-byte chunks, counting what the client actually sent."""

    def __init__(self, body: bytes, size: int) -> None:
        self.body, self.size, self.sent = body, size, 0

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self.body), self.size):
            chunk = self.body[start : start + self.size]
            self.sent += len(chunk)
            yield chunk


class TestStreamedBody:
    def test_signed_chunks_verified(self, server: tuple[str, int], database_url: str) -> None:
        body = fixture_bytes("ping")
        sender = Sender(body, 100)
        delivery = str(uuid.uuid4())

        response = httpx.post(
            f"http://{server[0]}:{server[1]}{WEBHOOK}",
            content=sender,  # no Content-Length: sent with chunked transfer encoding
            headers={
                **headers(),
                "X-GitHub-Event": "ping",
                "X-GitHub-Delivery": delivery,
                "X-Hub-Signature-256": sign(body),
            },
        )

        assert response.status_code == 200, response.text
        assert response.json() == {"outcome": "pong"}
        assert sender.sent == len(body)
        with psycopg.connect(database_url) as conn:
            recorded = conn.execute(
                "select outcome from github_deliveries where delivery_id = %s", (delivery,)
            ).fetchone()
        assert recorded == ("pong",)

    def test_wrong_signature_over_chunks(self, server: tuple[str, int], database_url: str) -> None:
        body = fixture_bytes("issue_comment/created")

        response = httpx.post(
            f"http://{server[0]}:{server[1]}{WEBHOOK}",
            content=Sender(body, 1000),
            headers={**headers(), "X-Hub-Signature-256": sign(body, "not-the-secret")},
        )

        assert response.status_code == 401
        assert response.json()["code"] == "bad_signature"
        with psycopg.connect(database_url) as conn:
            assert conn.execute("select count(*) from github_deliveries").fetchone() == (0,)


async def test_streamed_body_over_the_limit(anon: httpx.AsyncClient) -> None:
    # 26 MB in 1 MB chunks with no Content-Length: counted as it arrives and refused
    # once past 25 MB, before its signature is judged.
    body = b" " * (26 * 1024 * 1024)

    async def stream() -> AsyncIterator[bytes]:
        for chunk in Sender(body, 1024 * 1024):
            yield chunk

    response = await anon.post(
        WEBHOOK, content=stream(), headers={**headers(), "X-Hub-Signature-256": sign(body)}
    )

    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
