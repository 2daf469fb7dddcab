"""Mentions: ``@handle`` in an internal note tells that agent.

A handle is the part of an agent's address before the @ (``@alice`` for
alice@example.com), or the whole address where that part is shared
(``@alice@example.com``); a part several agents share mentions each of them. Only
active agents and admins can be mentioned: a handle that names a submitter, or no one,
is left as text and tells no one. Each mention is an in-app notification (``list``,
``mark_read``) and, through the change's ``mentioned`` ids, a mail to the agent if they
take that kind (``notifications``); the mail says who mentioned them where, never what
the note says. Public replies mention no one.
"""

import re
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from ticketdesk.auth.service import Actor
from ticketdesk.db import Connection
from ticketdesk.errors import InvalidInput
from ticketdesk.sql import execute, fetch_all, fetch_value, load_queries
from ticketdesk.tickets import access
from ticketdesk.users import service as users
from ticketdesk.users.schemas import UserRef

Q = load_queries(__package__, "mentions.sql")

# An @ that starts a word (not the middle of an address), then a handle, with an
# optional domain; a sentence's full stop after it is not part of it.
_MENTION = re.compile(
    r"(?<![\w.@/+-])@([a-z0-9](?:[a-z0-9._%+-]*[a-z0-9_%+-])?"
    r"(?:@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,})?)",
    re.IGNORECASE,
)
MAX_MENTIONS = 20


class Mention(BaseModel):
    """An internal note that names the caller."""

    id: UUID
    ticket_id: UUID
    ticket_number: int
    ticket_title: str
    comment_id: UUID
    author: UserRef = Field(description="Who wrote the note.")
    created_at: datetime
    read_at: datetime | None


class MentionPage(BaseModel):
    """The caller's mentions, newest first; pass ``next_cursor`` back as ``cursor``."""

    items: list[Mention]
    unread: int = Field(description="How many of all the caller's mentions are unread.")
    next_cursor: str | None


def handles_in(body: str) -> list[str]:
    """The handles ``body`` mentions, lower case, first seen first, at most ``MAX_MENTIONS``."""
    seen: dict[str, None] = {}
    for match in _MENTION.finditer(body):
        seen.setdefault(match.group(1).lower(), None)
    return list(seen)[:MAX_MENTIONS]


async def record(conn: Connection, author: Actor, comment_id: UUID, body: str) -> list[UUID]:
    """Store who the note ``comment_id`` mentions (staff only, never its author); their ids."""
    named = await users.staff_by_handles(conn, handles_in(body))
    ids = sorted({user.id for user in named if user.id != author.id})
    if ids:
        await execute(conn, Q.insert_mentions, {"comment_id": comment_id, "user_ids": ids})
    return ids


async def list_mentions(
    conn: Connection, actor: Actor, *, cursor: str | None, limit: int
) -> MentionPage:
    """The notes that mention ``actor``, newest first (none once they are not staff)."""
    if not access.sees_internal(actor):
        return MentionPage(items=[], unread=0, next_cursor=None)
    before_id = None
    if cursor is not None:
        try:
            before_id = UUID(cursor)
        except ValueError:
            raise InvalidInput(
                "The cursor is not valid.", code="bad_cursor", field="cursor"
            ) from None
    rows = await fetch_all(
        conn,
        Mention,
        Q.list_mentions,
        {"user_id": actor.id, "before_id": before_id, "limit": limit + 1},
    )
    unread = await fetch_value(conn, int, Q.count_unread, {"user_id": actor.id})
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return MentionPage(items=rows[:limit], unread=unread, next_cursor=next_cursor)


async def mark_read(conn: Connection, actor: Actor) -> None:
    """Mark every mention of ``actor`` read."""
    await execute(conn, Q.mark_read, {"user_id": actor.id})
