"""Rate limits on the actions people repeat to abuse a help desk: signing up, signing in,
and opening tickets, comments and access tokens.

Counted with the ``limits`` library in a moving window: in Redis when ``redis_url`` is
set, so every process shares one count, and in the process otherwise or while Redis is
away (``ticketdesk.redis_client``). Anonymous actions count per client address (an IPv6
client per /64, which one subscriber usually holds whole), the others per account.
Going over is a 429 ``rate_limited`` with ``Retry-After``.

The limits that must hold exactly across processes stay in PostgreSQL and are not
counted here again: failed sign-ins (``auth.service``), and requests for
mailed links per address and per client (``auth.links``).
"""

import ipaddress
import math
import time
from typing import Annotated, Literal

from fastapi import Depends, Request
from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from ticketdesk.config import RateLimitSettings
from ticketdesk.errors import RateLimited
from ticketdesk.redis_client import REDIS_DOWN, SharedRedis

Action = Literal["signup", "login", "ticket", "comment", "token"]

# The fixed limits. Sign-in failures are limited besides, in PostgreSQL (auth.service);
# this one caps every attempt, so that a client cannot keep the password hashing busy.
SIGNUPS_PER_HOUR = 10
LOGINS_PER_10_MINUTES = 60
TOKENS_PER_HOUR = 10

_REFUSALS: dict[Action, str] = {
    "signup": "Too many sign-ups from your address.",
    "login": "Too many sign-in attempts from your address.",
    "ticket": "You have opened too many tickets.",
    "comment": "You have written too many comments.",
    "token": "You have created too many access tokens.",
}


def _limits(settings: RateLimitSettings) -> dict[Action, RateLimitItem]:
    return {
        "signup": RateLimitItemPerHour(SIGNUPS_PER_HOUR),
        "login": RateLimitItemPerMinute(LOGINS_PER_10_MINUTES, 10),
        "ticket": RateLimitItemPerHour(settings.tickets_per_hour),
        "comment": RateLimitItemPerHour(settings.comments_per_hour),
        "token": RateLimitItemPerHour(TOKENS_PER_HOUR),
    }


def client_key(address: str) -> str:
    """What an action by the client at ``address`` counts under: an IPv4 address as it
    is, an IPv6 one by its /64 (anything else, such as a Unix socket's name, as it is)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


async def request_client_key(request: Request) -> str:
    """What the request's client counts under, for rate limits and failed sign-ins alike:
    ``client_key`` of its address. The address is the peer's, or the one a trusted
    proxy forwarded (``trusted_proxies``, applied by the app's proxy-headers middleware)."""
    return client_key(request.client.host if request.client else "unknown")


# The client a request counts under: ``client: ClientKey``.
ClientKey = Annotated[str, Depends(request_client_key)]


class RateLimiter:
    """Counts actions, in Redis while it answers and in this process otherwise."""

    def __init__(self, settings: RateLimitSettings, redis: SharedRedis | None) -> None:
        self.limits = _limits(settings)
        self._redis = redis
        self._local = MovingWindowRateLimiter(MemoryStorage())
        self._shared: MovingWindowRateLimiter | None = None
        if redis is not None:
            # The limits library names a Unix socket redis+unix://.
            scheme = "async+redis+" if redis.url.startswith("unix:") else "async+"
            storage = RedisStorage(
                scheme + redis.url,
                implementation="redispy",
                # The app's client and its timeouts, rather than a second pool.
                connection_pool=redis.client.connection_pool,  # type: ignore[arg-type]
                key_prefix="ticketdesk:limits",
                wrap_exceptions=True,
            )
            self._shared = MovingWindowRateLimiter(storage)

    async def check(self, action: Action, who: str) -> None:
        """Count one ``action`` by ``who`` (``client_key`` of an address, or an account id);
        ``RateLimited`` when that is one too many."""
        limit = self.limits[action]
        shared, redis = self._shared, self._redis
        if shared is not None and redis is not None and await redis.usable() is not None:
            try:
                await self._count(shared, limit, action, who)
                return
            except StorageError as exc:
                # The limits library wraps redis-py's error; the log names the latter.
                redis.lost(exc.storage_error)
            except REDIS_DOWN as exc:
                redis.lost(exc)
        await self._count(self._local, limit, action, who)

    @staticmethod
    async def _count(
        limiter: MovingWindowRateLimiter, limit: RateLimitItem, action: Action, who: str
    ) -> None:
        if await limiter.hit(limit, action, who):
            return
        stats = await limiter.get_window_stats(limit, action, who)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(f"{_REFUSALS[action]} Try again in {wait} seconds.", retry_after=wait)


async def app_rate_limiter(request: Request) -> RateLimiter:
    """The running app's rate limiter: ``limiter: RateLimits``."""
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


RateLimits = Annotated[RateLimiter, Depends(app_rate_limiter)]
