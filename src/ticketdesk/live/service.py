"""One stream of server-sent events: replay, live events, heartbeats, and its end.

The wire format (``text/event-stream``):

- ``retry: 3000`` first: how long a browser waits before reconnecting;
- a ticket event: ``id: <event id>``, ``event: ticket``, ``data: <LiveEvent JSON>``;
- ``event: presence`` with ``data: {"ticket_id": …}``, no id (staff only);
- ``event: github`` with ``data: {"ticket_id": …}``, no id (staff only);
- ``event: reset`` with ``data: {"reason": …}``: what was missed cannot be replayed, so
  the client reloads what it shows; the stream goes on;
- ``: ping`` every ``heartbeat_seconds``, so proxies keep the connection open.

A reconnecting client sends the last id it received (``Last-Event-ID``). Transactions
commit out of id order, so the replay starts ``REPLAY_SLACK`` before that id's time and
may repeat an event the client has: clients drop events whose id they have seen.
"""

import asyncio
import logging
import math
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import psycopg

from ticketdesk import broadcast, db
from ticketdesk.auth.service import Actor, Recheck
from ticketdesk.events import service as events
from ticketdesk.events.schemas import LiveEvent
from ticketdesk.live.hub import (
    REPLAY_SLACK,
    Closing,
    Hub,
    Missed,
    Overflow,
    Subscription,
    first_id_at,
    time_of,
)
from ticketdesk.live.schemas import LiveGitHub, LivePresence, LiveReset, ResetReason

log = logging.getLogger(__name__)

RETRY_MILLISECONDS = 3000
# Events replayed at most; past that the client reloads instead.
REPLAY_LIMIT = 500
# An id older than this is not replayed from.
REPLAY_MAX_AGE = timedelta(hours=1)
# Ids sent lately, not sent again by a replay.
REMEMBERED_IDS = 2 * REPLAY_LIMIT


@dataclass(frozen=True)
class Timing:
    """How often a stream sends a heartbeat and checks its credentials again."""

    heartbeat_seconds: float = 15.0
    recheck_seconds: float = 60.0


def _ticket_frame(event: LiveEvent) -> str:
    return f"id: {event.id}\nevent: ticket\ndata: {event.model_dump_json()}\n\n"


def _reset_frame(reason: ResetReason) -> str:
    return f"event: reset\ndata: {LiveReset(reason=reason).model_dump_json()}\n\n"


def _presence_frame(notice: broadcast.PresenceNotice) -> str:
    data = LivePresence(ticket_id=notice.ticket_id).model_dump_json()
    return f"event: presence\ndata: {data}\n\n"


def _github_frame(notice: broadcast.GitHubNotice) -> str:
    data = LiveGitHub(ticket_id=notice.ticket_id).model_dump_json()
    return f"event: github\ndata: {data}\n\n"


class _Sent:
    """What a stream sent lately, and from when a replay must start."""

    def __init__(self, since: datetime) -> None:
        self.since = since
        self._ids: deque[UUID] = deque(maxlen=REMEMBERED_IDS)
        self._known: set[UUID] = set()

    def __contains__(self, event_id: UUID) -> bool:
        return event_id in self._known

    def add(self, event_id: UUID) -> None:
        if len(self._ids) == self._ids.maxlen:
            self._known.discard(self._ids[0])
        self._ids.append(event_id)
        self._known.add(event_id)
        self.since = max(self.since, time_of(event_id))


async def _replay(hub: Hub, actor: Actor, sent: _Sent) -> list[LiveEvent] | None:
    """What ``actor`` may see since just before ``sent.since``, unsent; None: too much."""
    async with db.connection(hub.pool) as conn:
        rows = await events.events_from(
            conn, first_id_at(sent.since - REPLAY_SLACK), limit=REPLAY_LIMIT + 1
        )
    if len(rows) > REPLAY_LIMIT:
        return None
    return [
        shown
        for row in rows
        if row.id not in sent and (shown := events.shown_to(actor, row)) is not None
    ]


async def _known_to(hub: Hub, actor: Actor, last_event_id: str) -> UUID | None:
    """``last_event_id`` as an event ``actor`` may see and recent enough to replay from."""
    try:
        event_id = UUID(last_event_id)
    except ValueError:
        return None
    # Compared as milliseconds: any 128 bits may come in, some past the last datetime.
    if event_id.int >> 80 < (datetime.now(UTC) - REPLAY_MAX_AGE).timestamp() * 1000:
        return None
    async with db.connection(hub.pool) as conn:
        rows = await events.events_by_ids(conn, [event_id])
    if not rows or events.shown_to(actor, rows[0]) is None:
        return None
    return event_id


async def event_stream(
    hub: Hub, actor: Actor, *, last_event_id: str | None, recheck: Recheck, timing: Timing
) -> AsyncIterator[str]:
    """The frames of one stream, until the server stops, the credentials end, or the
    database fails it (the client then reconnects)."""
    with hub.subscribe(actor) as subscription:
        # Subscribed before the replay is read: nothing committed meanwhile is lost.
        yield f"retry: {RETRY_MILLISECONDS}\n\n"
        sent = _Sent(since=datetime.now(UTC))
        try:
            if last_event_id is not None:
                known = await _known_to(hub, actor, last_event_id)
                if known is None:
                    yield _reset_frame("unknown_last_event_id")
                else:
                    sent.since = time_of(known)
                    sent.add(known)
                    async for frame in _replayed(hub, actor, sent):
                        yield frame
            async for frame in _live(actor, subscription, sent, recheck, timing):
                yield frame
        except psycopg.Error:
            log.warning("live updates: a stream ends, its database query failed", exc_info=True)


async def _replayed(hub: Hub, actor: Actor, sent: _Sent) -> AsyncIterator[str]:
    replayed = await _replay(hub, actor, sent)
    if replayed is None:
        yield _reset_frame("too_many_missed")
        return
    for event in replayed:
        sent.add(event.id)
        yield _ticket_frame(event)


def _token_expiry(actor: Actor, loop: asyncio.AbstractEventLoop) -> float:
    """When, on the loop's clock, the stream's token expires: the stream ends then rather
    than at its next check of the credentials (infinity for a session or a lasting token)."""
    if actor.token is None or actor.token.expires_at is None:
        return math.inf
    return loop.time() + (actor.token.expires_at - datetime.now(UTC)).total_seconds()


async def _live(
    actor: Actor,
    subscription: Subscription,
    sent: _Sent,
    recheck: Recheck,
    timing: Timing,
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    next_ping = loop.time() + timing.heartbeat_seconds
    next_check = loop.time() + timing.recheck_seconds
    expires = _token_expiry(actor, loop)
    while True:
        now = loop.time()
        if now >= expires:
            return  # the token expired: reconnecting gets a 401
        if now >= next_check:
            current = await recheck()
            if current is None or (current.id, current.role) != (actor.id, actor.role):
                return  # signed out, revoked, deactivated, or another role: reconnect anew
            next_check = now + timing.recheck_seconds
        if now >= next_ping:
            yield ": ping\n\n"
            next_ping = now + timing.heartbeat_seconds
        try:
            item = await asyncio.wait_for(
                subscription.get(), timeout=max(0.0, min(next_ping, next_check, expires) - now)
            )
        except TimeoutError:
            continue
        if isinstance(item, Closing):
            return
        if isinstance(item, Overflow):
            yield _reset_frame("too_slow")
        elif isinstance(item, Missed):
            yield _reset_frame("too_many_missed")
        elif isinstance(item, broadcast.PresenceNotice):
            yield _presence_frame(item)
        elif isinstance(item, broadcast.GitHubNotice):
            yield _github_frame(item)
        elif item.id not in sent:
            sent.add(item.id)
            yield _ticket_frame(item)
