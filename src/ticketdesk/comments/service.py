"""A ticket's conversation: public replies and staff-only internal notes."""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg.rows import class_row

from ticketdesk.auth.service import Actor
from ticketdesk.changes import Change, record_change
from ticketdesk.comments.schemas import Comment
from ticketdesk.db import Connection
from ticketdesk.errors import Forbidden
from ticketdesk.sql import load_queries
from ticketdesk.tickets import access
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
    github: GitHubOrigin | None = None,
) -> Comment:
    """Add a reply or internal note to a ticket the caller may see, and record it."""
    if is_internal and not actor.is_staff:
        raise Forbidden(
            "Only agents and admins may write internal notes.",
            code="internal_note_forbidden",
            field="is_internal",
        )
    cur = await conn.execute(
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
    row = await cur.fetchone()
    assert row is not None
    comment_id = UUID(str(row["id"]))
    if not is_internal:
        # A note must not move the ticket's updated_at: submitters would see it change.
        await access.touch(conn, ticket.id)
    await record_change(
        conn,
        Change(
            ticket_id=ticket.id,
            kind="commented",
            actor_id=actor.id,
            data={"comment_id": str(comment_id), "is_internal": is_internal},
            is_internal=is_internal,
        ),
    )
    return await get_comment(conn, actor, comment_id)


async def get_comment(conn: Connection, actor: Actor, comment_id: UUID) -> Comment:
    """One comment, rendered for ``actor``."""
    cur = conn.cursor(row_factory=class_row(Comment))
    await cur.execute(
        Q.get_comment,
        {"comment_id": comment_id, "staff": access.sees_internal(actor), "viewer_id": actor.id},
    )
    comment = await cur.fetchone()
    assert comment is not None
    return comment


async def list_comments(conn: Connection, actor: Actor, ticket: Ticket) -> list[Comment]:
    """A ticket's conversation as ``actor`` may read it: internal notes for staff only."""
    cur = conn.cursor(row_factory=class_row(Comment))
    await cur.execute(
        Q.list_comments,
        {"ticket_id": ticket.id, "staff": access.sees_internal(actor), "viewer_id": actor.id},
    )
    return await cur.fetchall()


# --- comments that arrived from GitHub, changed there ------------------------------------


async def find_github_comment(conn: Connection, github_comment_id: int) -> UUID | None:
    """The comment that arrived from GitHub as this GitHub comment, if any."""
    cur = await conn.execute(Q.comment_for_github_id, {"github_comment_id": github_comment_id})
    row = await cur.fetchone()
    return UUID(str(row["id"])) if row else None


async def edit_github_comment(
    conn: Connection, actor: Actor, github_comment_id: int, body: str
) -> bool:
    """Replace the text of a comment from GitHub after it was edited there."""
    cur = await conn.execute(
        Q.update_github_comment, {"github_comment_id": github_comment_id, "body": body}
    )
    return await _record_github_comment_change(conn, actor, await cur.fetchone(), "comment_edited")


async def delete_github_comment(conn: Connection, actor: Actor, github_comment_id: int) -> bool:
    """Remove a comment from GitHub after it was deleted there."""
    cur = await conn.execute(Q.delete_github_comment, {"github_comment_id": github_comment_id})
    return await _record_github_comment_change(conn, actor, await cur.fetchone(), "comment_deleted")


async def _record_github_comment_change(
    conn: Connection, actor: Actor, row: dict[str, Any] | None, kind: str
) -> bool:
    if row is None:
        return False
    await access.touch(conn, row["ticket_id"])
    await record_change(
        conn,
        Change(
            ticket_id=row["ticket_id"],
            kind=kind,
            actor_id=actor.id,
            data={"comment_id": str(row["id"])},
        ),
    )
    return True
