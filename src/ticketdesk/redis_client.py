"""The optional Redis (``redis_url``): one redis-py asyncio client, and what to do while
it is away.

Nothing depends on Redis being there. Whoever uses it (rate limits, presence) asks
``usable()`` for the client and, given ``None``, does the same work its own way (counts
in the process, rows in PostgreSQL); a command that fails reports it with ``lost()`` and
the request goes on that way. The loss is logged once, as a warning that names the host
and never the password; from then on Redis is tried again at most every
``reprobe_seconds``, and its return is logged once too.
"""

import logging
import time
from urllib.parse import parse_qsl, urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# A Redis that stops answering costs a request at most about this long, once: after that
# nobody waits for it until the next probe.
CONNECT_TIMEOUT_SECONDS = 0.5
COMMAND_TIMEOUT_SECONDS = 1.0
REPROBE_SECONDS = 5.0

# What a lost Redis raises: its own errors, and the socket's when a connection breaks
# between redis-py's checks.
REDIS_DOWN = (RedisError, OSError)


def redis_location(url: str) -> str:
    """``host:port/db`` of a ``redis://`` URL, ``/socket/path/db`` of a ``unix://`` one:
    names the server without its password."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    if parts.scheme == "unix":
        return f"{parts.path}/{query.get('db', '0')}"
    database = parts.path.strip("/") or query.get("db", "0")
    return f"{parts.hostname}:{parts.port or 6379}/{database}"


class SharedRedis:
    """The app's Redis client, with the state of its connection: up, or away (and when it
    was last tried)."""

    def __init__(self, url: str, *, reprobe_seconds: float = REPROBE_SECONDS) -> None:
        self.url = url
        self.where = redis_location(url)
        self.reprobe_seconds = reprobe_seconds
        self.client: Redis = Redis.from_url(
            url,
            # RESP2 explicitly: every Redis since 2.6 speaks it, and redis-py 8 would
            # otherwise try RESP3 and its maintenance notifications on servers that
            # predate them.
            protocol=2,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            socket_timeout=COMMAND_TIMEOUT_SECONDS,
            # No retries: redis-py's default backs off for seconds, and a request should
            # rather go on without Redis at once.
            retry=Retry(NoBackoff(), 0),
        )
        self._away = False
        self._last_probe = 0.0

    async def start(self) -> None:
        """Check Redis once at start-up; a server that is not there yet is logged, not fatal."""
        try:
            await self.client.ping()
        except REDIS_DOWN as exc:
            self.lost(exc)

    async def usable(self) -> Redis | None:
        """The client while Redis answers; ``None`` while it is away (probed again at most
        every ``reprobe_seconds``)."""
        if not self._away:
            return self.client
        now = time.monotonic()
        if now - self._last_probe < self.reprobe_seconds:
            return None
        # Set before waiting, so that concurrent requests do not probe as well.
        self._last_probe = now
        try:
            await self.client.ping()
        except REDIS_DOWN:
            return None
        self._away = False
        log.warning(
            "Redis at %s is back: rate limits are shared again, presence is kept there",
            self.where,
        )
        return self.client

    def lost(self, exc: BaseException) -> None:
        """Note that a command failed; logged the first time only."""
        if self._away:
            return
        self._away = True
        self._last_probe = time.monotonic()
        # The exception's class, not its text: a server's refusal may quote the URL.
        log.warning(
            "Redis at %s cannot be reached (%s): rate limits count in each process and "
            "presence is kept in PostgreSQL until it is back",
            self.where,
            type(exc).__name__,
        )

    async def close(self) -> None:
        """Close the client's connections."""
        await self.client.aclose()
