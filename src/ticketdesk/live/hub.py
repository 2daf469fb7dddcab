"""One listener a process, fanning out what PostgreSQL announces to the open streams.

A dedicated autocommit connection (not the pool's) runs ``LISTEN`` on
``broadcast.CHANNEL``. Each announced event is loaded once, on a pooled connection
taken for that moment only, and offered to every stream whose reader may see it
(``events.shown_to``); presence goes to staff only. Each stream has a bounded queue: a
reader too slow to keep up loses its queue and is told to reload (``Overflow``).

If the listening connection drops, the hub reconnects with backoff and asks every
stream to replay from its own last event (``Resync``): what was committed meanwhile
was announced to nobody.

Nothing a stream's reader does stops the others: a failure while offering to one
stream ends that stream (its client reconnects), and the hub's loops log what fails
and go on.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from ticketdesk import broadcast, db
from ticketdesk.auth.service import Actor
from ticketdesk.events import service as events
from ticketdesk.events.schemas import LiveEvent
from ticketdesk.tickets import access

log = logging.getLogger(__name__)

# Items a stream may hold before its reader counts as too slow.
QUEUE_SIZE = 256
# Events loaded in one query.
BATCH_SIZE = 500
# How long the listener waits for a notification before checking its connection is alive.
PROBE_SECONDS = 30.0
START_TIMEOUT_SECONDS = 30.0
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0


class Overflow:
    """The stream's queue overflowed and was emptied: its reader must reload."""


class Resync:
    """Announcements may have been missed: replay from the last event sent."""


class Closing:
    """The server is stopping: end the stream."""


Item = LiveEvent | broadcast.PresenceNotice | Overflow | Resync | Closing

OVERFLOW = Overflow()
RESYNC = Resync()
CLOSING = Closing()


@dataclass(eq=False)
class Subscription:
    """One open stream: whose it is, and what waits to be sent to them."""

    actor: Actor
    queue: asyncio.Queue[Item] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: bool = False
    ended: bool = False

    def offer(self, item: Item) -> None:
        """Queue ``item``; when the queue is full, drop all it holds for one ``Overflow``."""
        if self.overflowed or self.ended:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflowed = True
            self._replace_all(OVERFLOW)

    async def get(self) -> Item:
        """The next item; once the reader has its ``Overflow``, items queue again."""
        item = await self.queue.get()
        if isinstance(item, Overflow):
            self.overflowed = False
        return item

    def end(self) -> None:
        """Make ``Closing`` the next and last item, whatever was queued."""
        self.ended = True
        self._replace_all(CLOSING)

    def _replace_all(self, item: Item) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(item)


class Hub:
    """The process's listener and the streams it feeds."""

    def __init__(self, dsn: str, pool: AsyncConnectionPool) -> None:
        self.pool = pool
        self._dsn = dsn
        self._subscriptions: set[Subscription] = set()
        self._pending: list[UUID] = []
        self._wake = asyncio.Event()
        self._listening = asyncio.Event()
        self._closed = False
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start listening (and loading); return once ``LISTEN`` is in place."""
        self._tasks = [
            asyncio.create_task(self._listen(), name="live-listener"),
            asyncio.create_task(self._load(), name="live-loader"),
        ]
        async with asyncio.timeout(START_TIMEOUT_SECONDS):
            await self._listening.wait()

    def close(self) -> None:
        """End every stream, now and from now on (the server is stopping)."""
        self._closed = True
        for subscription in self._subscriptions:
            subscription.end()

    async def stop(self) -> None:
        """Close, and stop listening. What the hub's tasks failed with is logged, not
        raised: the server stops all the same."""
        self.close()
        for task in self._tasks:
            task.cancel()
        results = await asyncio.gather(*self._tasks, return_exceptions=True)
        for task, result in zip(self._tasks, results, strict=True):
            if isinstance(result, Exception):
                log.error("live updates: %s failed", task.get_name(), exc_info=result)

    @contextlib.contextmanager
    def subscribe(self, actor: Actor) -> Iterator[Subscription]:
        """A stream's subscription for as long as the block runs."""
        subscription = Subscription(actor)
        if self._closed:
            subscription.end()
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    @property
    def streams(self) -> int:
        """How many streams are open."""
        return len(self._subscriptions)

    async def _listen(self) -> None:
        backoff = FIRST_BACKOFF_SECONDS
        first = True
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._dsn, autocommit=True
                ) as conn:
                    listen = sql.SQL("listen {}").format(sql.Identifier(broadcast.CHANNEL))
                    await conn.execute(listen)
                    if not first:
                        log.info("live updates: listening again")
                        self._resync_all()
                    first = False
                    backoff = FIRST_BACKOFF_SECONDS
                    self._listening.set()
                    while True:
                        async for notify in conn.notifies(timeout=PROBE_SECONDS):
                            self._take(notify.payload)
                        await conn.execute("select 1")  # a connection lost silently fails here
            except Exception as exc:  # a lost connection, or a fault: listen again
                log.warning(
                    "live updates: the listening connection failed (%s); again in %.1f s",
                    exc,
                    backoff,
                    exc_info=not isinstance(exc, psycopg.Error),
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    def _take(self, payload: str) -> None:
        notice = broadcast.parse(payload)
        if isinstance(notice, broadcast.EventNotice):
            self._pending.append(notice.event_id)
            self._wake.set()
        elif isinstance(notice, broadcast.PresenceNotice):
            self._offer_each(
                lambda subscription: [notice] if access.sees_presence(subscription.actor) else []
            )

    async def _load(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._deliver()
            except Exception:
                log.exception("live updates: delivering events failed")

    async def _deliver(self) -> None:
        while self._pending:
            ids, self._pending = self._pending[:BATCH_SIZE], self._pending[BATCH_SIZE:]
            if not self._subscriptions:
                continue
            try:
                async with db.connection(self.pool) as conn:
                    rows = await events.events_by_ids(conn, ids)
            except psycopg.Error:
                log.warning("live updates: could not load announced events", exc_info=True)
                self._resync_all()
                continue
            self._offer_rows(rows)

    def _offer_rows(self, rows: list[events.EventRow]) -> None:
        self._offer_each(
            lambda subscription: [
                shown
                for row in rows
                if (shown := events.shown_to(subscription.actor, row)) is not None
            ]
        )

    def _resync_all(self) -> None:
        self._offer_each(lambda _: [RESYNC])

    def _offer_each(self, items_for: Callable[[Subscription], Iterable[Item]]) -> None:
        """Offer each stream its items; a stream they fail for is ended, not the rest."""
        for subscription in self._subscriptions:
            try:
                for item in items_for(subscription):
                    subscription.offer(item)
            except Exception:
                log.exception("live updates: a stream's events failed; that stream ends")
                subscription.end()
