"""Two API processes' worth of servers on one database, and a client that reads SSE.

Each server is uvicorn in a thread with its own app, pool and listener, as two
``ticketdesk serve --no-worker`` replicas would be; a change made through one reaches a
stream held open on the other only through PostgreSQL.
"""

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import make_user
from tests.servers import serving
from ticketdesk.app import create_app
from ticketdesk.auth import service as auth
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.live.service import Timing
from ticketdesk.users.schemas import Role, User

# Short enough for a test to see them without waiting 15 s, or a minute.
TEST_TIMING = Timing(heartbeat_seconds=0.5, recheck_seconds=0.5)
# How long a request waits for a database connection: a test that lets none in waits
# this long for its failure.
POOL_TIMEOUT = 2.0


class Reconnects:
    """Whether a server's live listener may connect again after losing its connection."""

    def __init__(self) -> None:
        self.allowed = threading.Event()
        self.allowed.set()
        self.waiting = threading.Event()

    async def wait(self, seconds: float) -> None:
        """The listener's wait before reconnecting: ``seconds``, then until allowed."""
        self.waiting.set()
        await asyncio.sleep(seconds)
        # In short waits: a thread blocked for good would hold up the server's stop.
        while not await asyncio.to_thread(self.allowed.wait, 0.05):
            pass
        self.waiting.clear()


@dataclass
class Server:
    """A running API process: its URL, its app, and its listener's reconnects."""

    url: str
    app: FastAPI
    reconnects: Reconnects


@contextmanager
def serving_one(settings: Settings, timing: Timing = TEST_TIMING) -> Iterator[Server]:
    """One API process on the test's database, its streams on ``timing``."""
    reconnects = Reconnects()
    app = create_app(
        settings,
        live_timing=timing,
        live_reconnect_wait=reconnects.wait,
        pool_timeout=POOL_TIMEOUT,
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        with serving(app, sock) as url:
            yield Server(url, app, reconnects)


@pytest.fixture
def server(settings: Settings) -> Iterator[Server]:
    """One API process on the test's database."""
    with serving_one(settings) as one:
        yield one


@pytest.fixture
def servers(settings: Settings) -> Iterator[tuple[Server, Server]]:
    """Two API processes on the test's database."""
    with serving_one(settings) as first, serving_one(settings) as second:
        yield first, second


@dataclass
class Someone:
    """A person with a personal access token."""

    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """Their credentials, as a request header."""
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def person(conn: Connection) -> Callable[[Role, str], Awaitable[Someone]]:
    """Make an account of a role, with a token."""

    async def make(role: Role, name: str) -> Someone:
        user = await make_user(conn, role=role, name=name)
        token = await auth.create_token(conn, user.id, "live")
        return Someone(user, token.token)

    return make


@dataclass
class Frame:
    """One server-sent event, or a comment."""

    event: str | None = None
    data: str | None = None
    id: str | None = None
    retry: int | None = None
    comment: str | None = None


class EventReader:
    """Reads a ``text/event-stream`` response frame by frame, as EventSource parses it."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self, seconds: float = 5) -> Frame:
        """The next frame; fails after ``seconds`` without one."""
        async with asyncio.timeout(seconds):
            frame = Frame()
            async for line in self._lines:
                if line == "":
                    if frame != Frame():
                        return frame
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "":
                    frame.comment = value
                elif name == "data":
                    frame.data = value if frame.data is None else f"{frame.data}\n{value}"
                elif name == "retry":
                    frame.retry = int(value)
                elif name in ("event", "id"):
                    setattr(frame, name, value)
            raise EOFError("the stream ended")

    async def next_event(self, seconds: float = 5) -> Frame:
        """The next frame that is an event (heartbeats skipped)."""
        async with asyncio.timeout(seconds):
            while True:
                frame = await self.next(seconds)
                if frame.comment is None and frame.retry is None:
                    return frame

    async def until_end(self, seconds: float = 5) -> list[Frame]:
        """Every frame until the server ends the stream; fails if it is still open then."""
        frames: list[Frame] = []
        async with asyncio.timeout(seconds):
            try:
                while True:
                    frames.append(await self.next(seconds))
            except EOFError:
                return frames

    async def quiet_for(self, seconds: float) -> list[Frame]:
        """Every event frame within ``seconds`` (heartbeats skipped)."""
        frames: list[Frame] = []
        try:
            async with asyncio.timeout(seconds):
                while True:
                    frames.append(await self.next_event(seconds))
        except TimeoutError:
            pass
        return frames


@asynccontextmanager
async def open_stream(
    url: str, headers: dict[str, str], params: dict[str, str] | None = None
) -> AsyncIterator[EventReader]:
    """``GET /api/v1/events/stream`` held open, read with an ``EventReader``."""
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client,
        client.stream(
            "GET", f"{url}/api/v1/events/stream", headers=headers, params=params
        ) as response,
    ):
        yield EventReader(response)
