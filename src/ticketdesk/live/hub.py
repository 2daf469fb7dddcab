"""One listener a process, fanning out what PostgreSQL announces to the open streams.

A dedicated autocommit connection (not the pool's) runs ``LISTEN`` on
``broadcast.CHANNEL``. Each announced event is loaded once, on a pooled connection
taken for that moment only, and offered to every stream whose reader may see it
(``events.shown_to``); presence and GitHub link changes go to staff only. Each stream
has a bounded queue: a reader too slow to keep up loses its queue and is told to reload
(``Overflow``).

If the listening connection drops, the hub reconnects with backoff, then catches up:
one query reads every event since it was last surely listening (less ``REPLAY_SLACK``),
offered to each stream as announced events are (streams drop what they already sent).
Too many events for that, and every stream is told to reload (``Missed``). Announced
events that fail to load are caught up the same way.

Nothing a stream's reader does stops the others: a failure while offering to one
stream ends that stream (its client reconnects), and the hub's loops log what fails
and go on.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
# Events a catch-up reads at most, every ticket's; past that every stream reloads.
CATCH_UP_LIMIT = 500
# Transactions commit out of id order: a replay from a moment starts this much earlier.
REPLAY_SLACK = timedelta(seconds=5)
# How long the listener waits for a notification before checking its connection is alive.
PROBE_SECONDS = 10.0
START_TIMEOUT_SECONDS = 30.0
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0
# How long the loader waits before trying again when the database fails it.
RETRY_SECONDS = 1.0
# The listening connection's name in pg_stat_activity.
APPLICATION_NAME = "ticketdesk live"

# Waits the given seconds before the listener connects again.
ReconnectWait = Callable[[float], Awaitable[None]]


class Overflow:
    """The stream's queue overflowed and was emptied: its reader must reload."""


class Missed:
    """More events were missed than a catch-up replays: the reader must reload."""


class Closing:
    """The server is stopping: end the stream."""


Item = LiveEvent | broadcast.PresenceNotice | broadcast.GitHubNotice | Overflow | Missed | Closing

OVERFLOW = Overflow()
MISSED = Missed()
CLOSING = Closing()


def time_of(event_id: UUID) -> datetime:
    """When a UUIDv7 was made (its first 48 bits: Unix milliseconds)."""
    return datetime.fromtimestamp((event_id.int >> 80) / 1000, UTC)


def first_id_at(moment: datetime) -> UUID:
    """The smallest UUIDv7 made at ``moment``: where a range of the primary key starts."""
    return UUID(int=int(moment.timestamp() * 1000) << 80)


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
    """The process's listener and the streams it feeds.

    ``reconnect_wait`` waits out the backoff before the listener connects again."""

    def __init__(
        self, dsn: str, pool: AsyncConnectionPool, *, reconnect_wait: ReconnectWait = asyncio.sleep
    ) -> None:
        self.pool = pool
        self._dsn = dsn
        self._reconnect_wait = reconnect_wait
        self._subscriptions: set[Subscription] = set()
        self._pending: list[UUID] = []
        self._wake = asyncio.Event()
        self._listening = asyncio.Event()
        self._closed = False
        self._tasks: list[asyncio.Task[None]] = []
        # Every event committed before this was announced to the listener.
        self._heard_until: datetime | None = None
        # Where the next catch-up starts, if one is due.
        self._catch_up_from: datetime | None = None

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
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._dsn, autocommit=True, application_name=APPLICATION_NAME
                ) as conn:
                    listening_from = datetime.now(UTC)
                    listen = sql.SQL("listen {}").format(sql.Identifier(broadcast.CHANNEL))
                    await conn.execute(listen)
                    if self._heard_until is not None:
                        log.info("live updates: listening again")
                        self._catch_up(self._heard_until)
                    self._heard_until = listening_from
                    backoff = FIRST_BACKOFF_SECONDS
                    self._listening.set()
                    while True:
                        async for notify in conn.notifies(timeout=PROBE_SECONDS):
                            self._take(notify.payload)
                        probed = datetime.now(UTC)
                        await conn.execute("select 1")  # a connection lost silently fails here
                        # Announcements come in commit order, ahead of the probe's answer.
                        self._heard_until = probed
            except Exception as exc:  # a lost connection, or a fault: listen again
                log.warning(
                    "live updates: the listening connection failed (%s); again in %.1f s",
                    exc,
                    backoff,
                    exc_info=not isinstance(exc, psycopg.Error),
                )
                await self._reconnect_wait(backoff)
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
        elif isinstance(notice, broadcast.GitHubNotice):
            self._offer_each(
                lambda subscription: [notice] if access.sees_github(subscription.actor) else []
            )

    def _catch_up(self, since: datetime) -> None:
        """Have the loader replay every event from ``since`` (less the slack)."""
        if self._catch_up_from is None or since < self._catch_up_from:
            self._catch_up_from = since
        self._wake.set()

    async def _load(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._deliver()
            except psycopg.Error:
                log.warning(
                    "live updates: could not load events; again in %.0f s",
                    RETRY_SECONDS,
                    exc_info=True,
                )
                await asyncio.sleep(RETRY_SECONDS)
                self._wake.set()
            except Exception:
                log.exception("live updates: delivering events failed")

    async def _deliver(self) -> None:
        """Run a catch-up if one is due, then load and offer what was announced."""
        if self._catch_up_from is not None:
            since, self._catch_up_from = self._catch_up_from, None
            if self._subscriptions:
                try:
                    async with db.connection(self.pool) as conn:
                        rows = await events.events_from(
                            conn, first_id_at(since - REPLAY_SLACK), limit=CATCH_UP_LIMIT + 1
                        )
                except psycopg.Error:
                    self._catch_up(since)
                    raise
                if len(rows) > CATCH_UP_LIMIT:
                    self._offer_each(lambda _: [MISSED])
                else:
                    self._offer_rows(rows)
        while self._pending:
            ids, self._pending = self._pending[:BATCH_SIZE], self._pending[BATCH_SIZE:]
            if not self._subscriptions:
                continue
            try:
                async with db.connection(self.pool) as conn:
                    rows = await events.events_by_ids(conn, ids)
            except psycopg.Error:
                # A catch-up from the earliest of them reads them all, and what follows.
                self._catch_up(min(time_of(event_id) for event_id in ids + self._pending))
                self._pending = []
                raise
            self._offer_rows(rows)

    def _offer_rows(self, rows: list[events.EventRow]) -> None:
        self._offer_each(
            lambda subscription: [
                shown
                for row in rows
                if (shown := events.shown_to(subscription.actor, row)) is not None
            ]
        )

    def _offer_each(self, items_for: Callable[[Subscription], Iterable[Item]]) -> None:
        """Offer each stream its items; a stream they fail for is ended, not the rest."""
        for subscription in self._subscriptions:
            try:
                for item in items_for(subscription):
                    subscription.offer(item)
            except Exception:
                log.exception("live updates: a stream's events failed; that stream ends")
                subscription.end()
