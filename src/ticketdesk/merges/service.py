"""Merging a duplicate into a main ticket, and undoing it within a window.

A merge moves, in one transaction, every comment (replies and internal notes alike) and
every file of the duplicate to the main ticket, so the conversation has one timeline;
the duplicate's followers, and its submitter, follow the main ticket from then on (they
read its public side and reply there, never its notes). The duplicate keeps its
description and its own timeline, gets a public reply pointing to the main ticket (its
submitter is mailed it, and a linked GitHub issue gets it as a comment), and is closed
(which closes that issue; the main ticket's link is untouched). Both timelines get a
``merged`` event; webhooks hear ``ticket.merged`` once, about the duplicate.

A merged duplicate takes no replies and no status changes (``tickets.reply_refusal``);
its submitter can still open it and sees where it went. A ticket cannot be merged into
itself, into a ticket that is itself merged (so no chain can come back round to a
ticket), nor merged twice: 422s naming the field.

An undo, within ``tickets.merge_undo_minutes`` of the merge, moves back exactly the
comments and files the merge moved (those still there), takes back the followers it
added and its pointer reply, and gives the duplicate back its status (which reopens its
GitHub issue) and its stamps, the *Customer replied* mark included. Once the main
ticket has itself been merged into another, an undo is refused: what moved has moved on.
"""

from datetime import UTC, datetime, timedelta
from uuid import UUID

from pydantic import BaseModel

from ticketdesk.attachments import service as attachments
from ticketdesk.auth.service import Actor
from ticketdesk.changes import Change, record_change
from ticketdesk.comments import service as comments
from ticketdesk.db import Connection
from ticketdesk.errors import Conflict, InvalidInput, NotFound
from ticketdesk.merges.schemas import Merge, MergeRequest, TicketPointer
from ticketdesk.sql import (
    execute,
    fetch_all,
    fetch_one,
    fetch_optional,
    fetch_optional_value,
    fetch_value,
    load_queries,
)
from ticketdesk.tickets import access, followers
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.schemas import Status, Ticket

Q = load_queries(__package__)


class _MergeRow(BaseModel):
    id: UUID
    duplicate_id: UUID
    main_id: UUID
    merged_at: datetime
    comment_ids: list[UUID]
    attachment_ids: list[UUID]
    follower_ids: list[UUID]
    pointer_comment_id: UUID | None
    status_before: Status
    resolved_at_before: datetime | None
    closed_at_before: datetime | None
    customer_replied_at_before: datetime | None


class _MergeView(BaseModel):
    id: UUID
    duplicate: TicketPointer
    main: TicketPointer
    merged_by: dict[str, object] | None
    merged_at: datetime
    undone_at: datetime | None
    comments_moved: int
    attachments_moved: int
    followers_added: int


def _pointer(ticket: Ticket) -> dict[str, object]:
    # By number, never by title: a merge's events stay on both timelines (after an undo
    # too), read by each ticket's submitter, who may not read the other ticket.
    return {"id": str(ticket.id), "number": ticket.number}


async def _lock_pair(conn: Connection, one: Ticket, other: Ticket) -> tuple[Ticket, Ticket]:
    """Both tickets read again and locked, always in the same order (no deadlock between
    two merges of the same pair)."""
    locked = {}
    for ticket in sorted((one, other), key=lambda t: t.id):
        locked[ticket.id] = await access.lock_visible_ticket(conn, ticket)
    return locked[one.id], locked[other.id]


async def _target(conn: Connection, actor: Actor, ref: str) -> Ticket:
    try:
        return await access.get_visible_ticket(conn, actor, ref)
    except NotFound:
        raise InvalidInput(
            f"Ticket {ref} does not exist.", code="merge_target_not_found", field="into"
        ) from None


async def merge(
    conn: Connection,
    actor: Actor,
    ref: str,
    body: MergeRequest,
    *,
    reopen_window: timedelta,
    undo_window: timedelta,
) -> Merge:
    """Merge the duplicate ``ref`` into ``body.into`` (staff), in the caller's transaction."""
    found = await access.get_visible_ticket(conn, actor, ref)
    target = await _target(conn, actor, body.into)
    if target.id == found.id:
        raise InvalidInput(
            "A ticket cannot be merged into itself.", code="merge_into_itself", field="into"
        )
    duplicate, main = await _lock_pair(conn, found, target)
    if duplicate.merged_into_id is not None:
        raise InvalidInput(
            f"Ticket #{duplicate.number} is already merged into another ticket; undo that "
            "merge first.",
            code="already_merged",
            field="id",
        )
    if main.merged_into_id is not None:
        raise InvalidInput(
            f"Ticket #{main.number} was itself merged into another ticket; merge into that one.",
            code="merge_target_merged",
            field="into",
        )
    comment_ids = await comments.move_comments(conn, duplicate.id, main.id)
    attachment_ids = await attachments.move_attachments(conn, duplicate.id, main.id)
    follower_ids = await followers.copy_followers(conn, duplicate.id, main.id)
    if duplicate.user_id != main.user_id:
        added = await followers.add_person(conn, main.id, duplicate.user_id, via="merge")
        if added is not None:
            follower_ids.append(added)
    pointer = await comments.add_comment(
        conn,
        actor,
        duplicate,
        f"This ticket was merged into #{main.number} as a duplicate. The conversation "
        "continues there, and its replies will reach you as well.",
        is_internal=False,
        reopen_window=reopen_window,
    )
    await tickets.mark_merged(conn, actor, duplicate, main)
    moved = {"comments": len(comment_ids), "attachments": len(attachment_ids)}
    await record_change(
        conn,
        Change(
            ticket_id=duplicate.id,
            kind="merged",
            actor_id=actor.id,
            data={"role": "duplicate", "main": _pointer(main), **moved},
        ),
    )
    await record_change(
        conn,
        Change(
            ticket_id=main.id,
            kind="merged",
            actor_id=actor.id,
            data={
                "role": "main",
                "duplicate": _pointer(duplicate),
                "main": _pointer(main),
                **moved,
            },
        ),
    )
    await tickets.touch(conn, main.id)
    merge_id = await fetch_value(
        conn,
        UUID,
        Q.insert_merge,
        {
            "duplicate_id": duplicate.id,
            "main_id": main.id,
            "merged_by": actor.id,
            "comment_ids": comment_ids,
            "attachment_ids": attachment_ids,
            "follower_ids": follower_ids,
            "pointer_comment_id": pointer.id,
            "status_before": duplicate.status,
            "resolved_at_before": duplicate.resolved_at,
            "closed_at_before": duplicate.closed_at,
            "customer_replied_at_before": duplicate.customer_replied_at,
        },
    )
    return await get_merge(conn, merge_id, undo_window=undo_window)


async def undo(conn: Connection, actor: Actor, ref: str, *, undo_window: timedelta) -> Merge:
    """Undo the merge of the duplicate ``ref`` (staff), if still within ``undo_window``."""
    found = await access.get_visible_ticket(conn, actor, ref)
    row = await fetch_optional(conn, _MergeRow, Q.lock_active_merge, {"duplicate_id": found.id})
    if row is None:
        raise Conflict(
            f"Ticket #{found.number} is not merged into another ticket.",
            code="not_merged",
            field="id",
        )
    if datetime.now(UTC) - row.merged_at > undo_window:
        minutes = int(undo_window.total_seconds() // 60)
        raise Conflict(
            f"This merge can no longer be undone: merges can be undone for {minutes} "
            f"minute{'s' if minutes != 1 else ''}.",
            code="merge_undo_expired",
            field="id",
        )
    main_found = await access.get_visible_ticket(conn, actor, str(row.main_id))
    duplicate, main = await _lock_pair(conn, found, main_found)
    if main.merged_into_id is not None:
        raise Conflict(
            f"Ticket #{main.number} has since been merged into another ticket, with what "
            "this merge moved: undo that merge first.",
            code="merge_undo_impossible",
            field="id",
        )
    back = {
        "comments": len(
            await comments.move_comments_back(conn, row.comment_ids, main.id, duplicate.id)
        ),
        "attachments": len(
            await attachments.move_attachments_back(conn, row.attachment_ids, main.id, duplicate.id)
        ),
    }
    await followers.remove_rows(conn, row.follower_ids)
    if row.pointer_comment_id is not None:
        await comments.delete_comment(conn, actor, row.pointer_comment_id)
    await tickets.unmark_merged(
        conn,
        actor,
        duplicate,
        status=row.status_before,
        resolved_at=row.resolved_at_before,
        closed_at=row.closed_at_before,
        customer_replied_at=row.customer_replied_at_before,
    )
    await record_change(
        conn,
        Change(
            ticket_id=duplicate.id,
            kind="unmerged",
            actor_id=actor.id,
            data={"role": "duplicate", "main": _pointer(main), **back},
        ),
    )
    await record_change(
        conn,
        Change(
            ticket_id=main.id,
            kind="unmerged",
            actor_id=actor.id,
            data={
                "role": "main",
                "duplicate": _pointer(duplicate),
                "main": _pointer(main),
                **back,
            },
        ),
    )
    await tickets.touch(conn, main.id)
    await execute(conn, Q.mark_undone, {"id": row.id, "actor_id": actor.id})
    return await get_merge(conn, row.id, undo_window=undo_window)


async def get_merge(conn: Connection, merge_id: UUID, *, undo_window: timedelta) -> Merge:
    """One merge, with until when it may be undone."""
    view = await fetch_one(conn, _MergeView, Q.merge_by_id, {"id": merge_id})
    undo_until = view.merged_at + undo_window
    open_for_undo = view.undone_at is None and undo_window > timedelta(0)
    return Merge.model_validate(
        {
            **view.model_dump(),
            "undo_until": undo_until if open_for_undo and undo_until > datetime.now(UTC) else None,
        }
    )


async def active_merge(
    conn: Connection, duplicate_id: UUID, *, undo_window: timedelta
) -> Merge | None:
    """The merge in force of ``duplicate_id``, if it is a merged duplicate."""
    merge_id = await fetch_optional_value(
        conn, UUID, Q.active_merge_id, {"duplicate_id": duplicate_id}
    )
    return None if merge_id is None else await get_merge(conn, merge_id, undo_window=undo_window)


async def duplicates_of(conn: Connection, main_id: UUID) -> list[TicketPointer]:
    """The tickets merged into ``main_id``, oldest merge first."""
    return await fetch_all(conn, TicketPointer, Q.duplicates_of, {"main_id": main_id})
