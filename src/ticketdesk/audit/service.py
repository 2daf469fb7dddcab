"""Recording administrative actions, reading them back, and forgetting old ones.

``record`` writes in the caller's transaction: an action that is refused or rolled back
leaves no entry, and one that commits always has its entry. Secrets never reach the
table: values under secret-looking keys are replaced before the row is written.
"""

import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from ticketdesk.audit.schemas import AuditEntry, AuditPage
from ticketdesk.db import Connection, transaction
from ticketdesk.errors import InvalidInput
from ticketdesk.sql import execute, fetch_all, load_queries

Q = load_queries(__package__)

REDACTED = "[redacted]"
# Keys whose values are secrets: webhook secrets, token values, passwords and their hashes.
_SECRET_KEY = re.compile(
    r"(^|_)(secret|secrets|password|password_hash|token|token_hash|access_key|api_key)$"
)
# Rows a retention run deletes in one statement.
PRUNE_BATCH = 5000


def _redact_url(value: str) -> str:
    """A URL with a password in it, the password replaced."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return value
    if parts.password is None:
        return value
    host = parts.netloc.rsplit("@", 1)[1]
    netloc = f"{parts.username}:{REDACTED}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def redact(value: Any) -> Any:
    """``value`` with every secret in it replaced by ``[redacted]``."""
    if isinstance(value, Mapping):
        return {
            key: REDACTED
            if _SECRET_KEY.search(str(key).lower()) and item is not None
            else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    if isinstance(value, str) and "@" in value and "://" in value:
        return _redact_url(value)
    return value


async def record(
    conn: Connection,
    *,
    actor_id: UUID | None,
    client_address: str | None,
    action: str,
    target_type: str,
    target_id: str | None,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    """Record one administrative action in ``conn``'s transaction. ``before`` and
    ``after``: the target's state either side of it (JSON values), secrets redacted."""
    await execute(
        conn,
        Q.insert_entry,
        {
            "actor_id": actor_id,
            "client_address": client_address,
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "before": None if before is None else Jsonb(redact(before)),
            "after": None if after is None else Jsonb(redact(after)),
        },
    )


@dataclass(frozen=True)
class Filters:
    """Which entries: each filter left ``None`` is off."""

    actor_id: UUID | None = None
    # A prefix of the action's name: ``webhook.`` or ``user.role_changed``.
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    # Words found anywhere in the action, the target or either state, ignoring case.
    q: str | None = None


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _params(filters: Filters) -> dict[str, Any]:
    return {
        "actor_id": filters.actor_id,
        "action": None if filters.action is None else _like_escaped(filters.action) + "%",
        "target_type": filters.target_type,
        "target_id": filters.target_id,
        "since": filters.since,
        "until": filters.until,
        "q": None if filters.q is None else "%" + _like_escaped(filters.q.lower()) + "%",
    }


def _cursor(cursor: str) -> tuple[datetime, UUID]:
    at, _, entry_id = cursor.partition("~")
    try:
        return datetime.fromisoformat(at), UUID(entry_id)
    except ValueError:
        raise InvalidInput("The cursor is not valid.", code="bad_cursor", field="cursor") from None


async def list_entries(
    conn: Connection, filters: Filters, *, cursor: str | None, limit: int
) -> AuditPage:
    """One page of entries, newest first."""
    after_at, after_id = _cursor(cursor) if cursor is not None else (None, None)
    rows = await fetch_all(
        conn,
        AuditEntry,
        Q.list_entries,
        {**_params(filters), "after_at": after_at, "after_id": after_id, "limit": limit + 1},
    )
    if len(rows) <= limit:
        return AuditPage(items=rows, next_cursor=None)
    last = rows[limit - 1]
    return AuditPage(items=rows[:limit], next_cursor=f"{last.at.isoformat()}~{last.id}")


async def stream_entries(pool: AsyncConnectionPool, filters: Filters) -> AsyncIterator[AuditEntry]:
    """Every entry the filters take, newest first, read a batch at a time through a
    server-side cursor: memory stays bounded however many there are."""
    async with transaction(pool) as conn:
        cursor = conn.cursor("audit_export")
        async with cursor:
            await cursor.execute(
                Q.list_entries,
                {**_params(filters), "after_at": None, "after_id": None, "limit": None},
            )
            async for row in cursor:
                yield AuditEntry.model_validate(row)


async def prune(conn: Connection, *, days: int) -> int:
    """Delete one batch of entries older than ``days`` days; how many went."""
    await execute(conn, Q.allow_prune)
    return await execute(conn, Q.prune_entries, {"days": days, "batch": PRUNE_BATCH})
