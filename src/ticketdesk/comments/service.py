"""A ticket's conversation: public replies and staff-only internal notes."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

from pydantic import BaseModel

from ticketdesk.auth.service import Actor
from ticketdesk.changes import Change, record_change
from ticketdesk.comments import mentions
from ticketdesk.comments.schemas import Comment
from ticketdesk.db import Connection
from ticketdesk.errors import Forbidden
from ticketdesk.sql import (
    execute,
    fetch_all,
    fetch_one,
    fetch_optional,
    fetch_value,
    fetch_values,
    load_queries,
)
from ticketdesk.tickets import access
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.schemas import Ticket

Q = load_queries(__package__)


@dataclass(frozen=True)
class GitHubOrigin:
    """Where a comment that arrived from GitHub came from."""

    login: str
    comment_id: int


async def add_comment(
    conn: Connection,
    actor: Actor,
    ticket: Ticket,
    body: str,
    *,
    is_internal: bool,
    reopen_window: timedelta,
    github: GitHubOrigin | None = None,
    staff_reply_waits: bool = False,
) -> Comment:
    """Add a reply or internal note to a ticket the caller may see, and record it.

    Every channel a reply arrives by comes here. A public reply moves the ticket
    (``tickets.take_public_reply``): the submitter's sends it back to the agents and
    marks it as awaiting an answer, reopening it if resolved, or closed at most
    ``reopen_window`` ago (later it is refused); every channel passes
    ``settings.reopen_window``. Staff's reply answers it, and with ``staff_reply_waits``
    (``tickets.reply_moves_to_waiting``) sets it waiting. ``ticket`` must be locked by the
    caller.
    """
    if is_internal and not actor.is_staff:
        raise Forbidden(
            "Only agents and admins may write internal notes.",
            code="internal_note_forbidden",
            field="is_internal",
        )
    if not is_internal:
        # A note must not move the ticket or its updated_at: submitters would see it.
        await tickets.take_public_reply(
            conn,
            actor,
            ticket,
            reopen_window=reopen_window,
            staff_reply_waits=staff_reply_waits,
        )
    comment_id = await fetch_value(
        conn,
        UUID,
        Q.insert_comment,
        {
            "ticket_id": ticket.id,
            "author_id": actor.id,
            "body": body,
            "is_internal": is_internal,
            "source": "github" if github else "ticketdesk",
            "github_login": github.login if github else None,
            "github_comment_id": github.comment_id if github else None,
        },
    )
    data: dict[str, object] = {"comment_id": str(comment_id), "is_internal": is_internal}
    if is_internal and (mentioned := await mentions.record(conn, actor, comment_id, body)):
        # Staff only, as the note's change is: the agents to tell (``notifications``).
        data["mentioned"] = [str(user_id) for user_id in mentioned]
    await record_change(
        conn,
        Change(
            ticket_id=ticket.id,
            kind="commented",
            actor_id=actor.id,
            data=data,
            is_internal=is_internal,
        ),
    )
    return await get_comment(conn, actor, comment_id)


@dataclass(frozen=True)
class ImportedComment:
    """A comment brought over from another system, with its own time."""

    ticket_id: UUID
    author_id: UUID
    body: str
    is_internal: bool
    created_at: datetime


async def insert_imported_comments(conn: Connection, batch: Sequence[ImportedComment]) -> None:
    """Write ``batch`` in one statement; no change is announced (the importer records each
    ticket's one event)."""
    await execute(
        conn,
        Q.insert_imported_comments,
        {
            "ticket_id": [c.ticket_id for c in batch],
            "author_id": [c.author_id for c in batch],
            "body": [c.body for c in batch],
            "is_internal": [c.is_internal for c in batch],
            "created_at": [c.created_at for c in batch],
        },
    )


async def get_comment(conn: Connection, actor: Actor, comment_id: UUID) -> Comment:
    """One comment, rendered for ``actor``."""
    return await fetch_one(
        conn,
        Comment,
        Q.get_comment,
        {"comment_id": comment_id, "staff": access.sees_internal(actor), "viewer_id": actor.id},
    )


async def get_public_comment(conn: Connection, comment_id: UUID) -> Comment | None:
    """A public reply, as anyone outside the app may read it; ``None`` for a note or a
    comment that is gone."""
    return await fetch_optional(conn, Comment, Q.get_public_comment, {"comment_id": comment_id})


async def list_comments(conn: Connection, actor: Actor, ticket: Ticket) -> list[Comment]:
    """A ticket's conversation as ``actor`` may read it: internal notes for staff only."""
    return await fetch_all(
        conn,
        Comment,
        Q.list_comments,
        {"ticket_id": ticket.id, "staff": access.sees_internal(actor), "viewer_id": actor.id},
    )


# --- comments that arrived from GitHub, changed there ------------------------------------


class _CommentPlace(BaseModel):
    """A comment, by the ticket it is on."""

    id: UUID
    ticket_id: UUID


async def find_github_comment(conn: Connection, github_comment_id: int) -> UUID | None:
    """The comment that arrived from GitHub as this GitHub comment, if any."""
    found = await fetch_optional(
        conn, _CommentPlace, Q.comment_for_github_id, {"github_comment_id": github_comment_id}
    )
    return found.id if found else None


async def edit_github_comment(
    conn: Connection, actor: Actor, github_comment_id: int, body: str
) -> bool:
    """Replace the text of a comment from GitHub after it was edited there."""
    edited = await fetch_optional(
        conn,
        _CommentPlace,
        Q.update_github_comment,
        {"github_comment_id": github_comment_id, "body": body},
    )
    return await _record_github_comment_change(conn, actor, edited, "comment_edited")


async def delete_github_comment(conn: Connection, actor: Actor, github_comment_id: int) -> bool:
    """Remove a comment from GitHub after it was deleted there."""
    deleted = await fetch_optional(
        conn, _CommentPlace, Q.delete_github_comment, {"github_comment_id": github_comment_id}
    )
    return await _record_github_comment_change(conn, actor, deleted, "comment_deleted")


async def _record_github_comment_change(
    conn: Connection,
    actor: Actor,
    comment: _CommentPlace | None,
    kind: Literal["comment_edited", "comment_deleted"],
) -> bool:
    if comment is None:
        return False
    await tickets.touch(conn, comment.ticket_id)
    await record_change(
        conn,
        Change(
            ticket_id=comment.ticket_id,
            kind=kind,
            actor_id=actor.id,
            data={"comment_id": str(comment.id)},
        ),
    )
    return True


# --- a merge moves the conversation --------------------------------------------------


async def move_comments(conn: Connection, from_id: UUID, to_id: UUID) -> list[UUID]:
    """Move every comment of ticket ``from_id`` to ``to_id`` (both locked); their ids."""
    return await fetch_values(conn, UUID, Q.move_comments, {"from_id": from_id, "to_id": to_id})


async def move_comments_back(
    conn: Connection, ids: list[UUID], from_id: UUID, to_id: UUID
) -> list[UUID]:
    """Move the comments ``ids`` still on ``from_id`` to ``to_id``; the ids moved."""
    return await fetch_values(
        conn, UUID, Q.move_comments_back, {"ids": ids, "from_id": from_id, "to_id": to_id}
    )


async def delete_comment(conn: Connection, actor: Actor, comment_id: UUID) -> bool:
    """Remove a comment ticketdesk wrote itself (an undone merge's pointer), recorded."""
    deleted = await fetch_optional(
        conn, _CommentPlace, Q.delete_comment, {"comment_id": comment_id}
    )
    if deleted is None:
        return False
    await record_change(
        conn,
        Change(
            ticket_id=deleted.ticket_id,
            kind="comment_deleted",
            actor_id=actor.id,
            data={"comment_id": str(deleted.id)},
        ),
    )
    return True
