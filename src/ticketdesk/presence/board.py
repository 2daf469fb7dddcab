"""Where presence is kept: in Redis when it is set and answers, else in PostgreSQL.

Each mark lasts ``ttl`` after it was last put. In Redis a ticket is one hash
(``ticketdesk:presence:<ticket id>``: user id → state, since, expiry) that expires with
its last mark; in PostgreSQL it is the unlogged ``ticket_presence`` table. Either way an
expired mark is never read, and is removed on the way.
"""

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast, get_args
from uuid import UUID

from redis.asyncio import Redis

from ticketdesk.db import Connection
from ticketdesk.presence.schemas import PresenceState
from ticketdesk.redis_client import REDIS_DOWN, SharedRedis
from ticketdesk.sql import execute, fetch_all, fetch_optional_value, load_queries

Q = load_queries(__package__)

# Clients renew every 20 s or so: two renewals may be missed before a mark lapses.
PRESENCE_TTL = timedelta(seconds=45)


@dataclass(frozen=True)
class Presence:
    """One person's mark on a ticket."""

    user_id: UUID
    state: PresenceState
    since: datetime


def _key(ticket_id: UUID) -> str:
    return f"ticketdesk:presence:{ticket_id}"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _live_marks(raw: Mapping[bytes | str, bytes | str], now: float) -> dict[str, Presence]:
    """The marks of a ticket's hash (user id → JSON) that have not expired, by field; a
    field or value that is not a mark (written by something else) is left out."""
    marks: dict[str, Presence] = {}
    for field, value in raw.items():
        try:
            mark = json.loads(value)
            if mark["expires"] <= now or mark["state"] not in get_args(PresenceState):
                continue
            presence = Presence(
                UUID(_text(field)), mark["state"], datetime.fromtimestamp(mark["since"], UTC)
            )
        except (ValueError, KeyError, TypeError, OverflowError, OSError):
            continue
        marks[_text(field)] = presence
    return marks


class PresenceBoard:
    """Puts, reads and removes marks, in Redis while it answers and in PostgreSQL else."""

    def __init__(self, redis: SharedRedis | None, *, ttl: timedelta = PRESENCE_TTL) -> None:
        self._redis = redis
        self.ttl = ttl

    async def _client(self) -> Redis | None:
        return None if self._redis is None else await self._redis.usable()

    def _lost(self, exc: BaseException) -> None:
        assert self._redis is not None
        self._redis.lost(exc)

    async def put(
        self, conn: Connection, ticket_id: UUID, user_id: UUID, state: PresenceState
    ) -> PresenceState | None:
        """Mark ``user_id`` on the ticket for another ``ttl``; the state they were in
        before (``None``: they were not there)."""
        client = await self._client()
        if client is not None:
            try:
                return await self._put_redis(client, ticket_id, user_id, state)
            except REDIS_DOWN as exc:
                self._lost(exc)
        previous = await fetch_optional_value(
            conn, str, Q.previous_state, {"ticket_id": ticket_id, "user_id": user_id}
        )
        await execute(
            conn,
            Q.upsert_presence,
            {
                "ticket_id": ticket_id,
                "user_id": user_id,
                "state": state,
                "ttl_seconds": self.ttl.total_seconds(),
            },
        )
        await execute(conn, Q.prune_expired)
        return cast(PresenceState | None, previous)

    async def _put_redis(
        self, client: Redis, ticket_id: UUID, user_id: UUID, state: PresenceState
    ) -> PresenceState | None:
        now = time.time()
        key, field = _key(ticket_id), str(user_id)
        raw = await client.hget(key, field)
        previous = _live_marks({field: raw}, now).get(field) if raw else None
        since = previous.since.timestamp() if previous and previous.state == state else now
        mark = {"state": state, "since": since, "expires": now + self.ttl.total_seconds()}
        async with client.pipeline(transaction=True) as pipe:
            pipe.hset(key, field, json.dumps(mark))
            # The hash goes with the last mark put on it (a second more for clocks).
            pipe.pexpire(key, int(self.ttl.total_seconds() * 1000) + 1000)
            await pipe.execute()
        return previous.state if previous else None

    async def remove(self, conn: Connection, ticket_id: UUID, user_id: UUID) -> bool:
        """Take ``user_id``'s mark off the ticket; whether there was a live one."""
        client = await self._client()
        if client is not None:
            try:
                key, field = _key(ticket_id), str(user_id)
                raw = await client.hget(key, field)
                await client.hdel(key, field)
                return raw is not None and field in _live_marks({field: raw}, time.time())
            except REDIS_DOWN as exc:
                self._lost(exc)
        was_present = await fetch_optional_value(
            conn, bool, Q.delete_presence, {"ticket_id": ticket_id, "user_id": user_id}
        )
        return bool(was_present)

    async def present(self, conn: Connection, ticket_id: UUID) -> list[Presence]:
        """Everyone marked on the ticket now, longest there first."""
        client = await self._client()
        if client is not None:
            try:
                return await self._present_redis(client, ticket_id)
            except REDIS_DOWN as exc:
                self._lost(exc)
        return await fetch_all(conn, Presence, Q.present_on_ticket, {"ticket_id": ticket_id})

    async def _present_redis(self, client: Redis, ticket_id: UUID) -> list[Presence]:
        key = _key(ticket_id)
        raw = await client.hgetall(key)
        marks = _live_marks(raw, time.time())
        # Expired marks, and anything else that is not one, go on the way.
        expired = [field for field in raw if _text(field) not in marks]
        if expired:
            await client.hdel(key, *expired)
        return sorted(marks.values(), key=lambda presence: (presence.since, str(presence.user_id)))
