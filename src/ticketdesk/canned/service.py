"""Canned replies: saved text staff insert into a reply, optionally a macro.

Shared replies are listed for all staff and managed by admins; a personal reply is its
owner's alone (anyone else is told it does not exist). A body is a template of public
values only (``canned.templates``), checked when saved and rendered in a sandbox for one
ticket, so the agent sees and edits the text before sending. Sending a reply made from
one applies its actions (a status, labels) in the same transaction as the comment: both
happen, or neither.
"""

from datetime import timedelta
from typing import Any
from uuid import UUID

import psycopg

from ticketdesk.auth.service import Actor
from ticketdesk.canned import templates
from ticketdesk.canned.schemas import (
    CannedReply,
    CannedReplyCreate,
    CannedReplyUpdate,
    RenderedReply,
)
from ticketdesk.comments import service as comments
from ticketdesk.comments.schemas import Comment
from ticketdesk.db import Connection, constraint_name
from ticketdesk.errors import Conflict, Forbidden, InvalidInput, NotFound
from ticketdesk.labels import service as labels
from ticketdesk.sql import execute, fetch_all, fetch_one, fetch_optional, load_queries
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.schemas import Ticket, TicketUpdate
from ticketdesk.users import service as users

Q = load_queries(__package__)


def _check_body(body: str) -> None:
    try:
        templates.check(body)
    except templates.TemplateRefused as exc:
        raise InvalidInput(str(exc), code="bad_template", field="body") from None


async def _labels(conn: Connection, names: list[str]) -> list[str]:
    if not names:
        return []
    try:
        return await labels.canonical_tags(conn, names)
    except InvalidInput as exc:
        exc.field = "add_labels"
        raise


def _title_taken(exc: psycopg.errors.UniqueViolation) -> Conflict | None:
    if constraint_name(exc) == "canned_replies_title_key":
        return Conflict(
            "A canned reply with this title exists.", code="canned_reply_exists", field="title"
        )
    return None


def require_staff(actor: Actor) -> None:
    """Refuse anyone but agents and admins (after the ticket was found visible, so that a
    submitter is told of their own ticket only)."""
    if not actor.is_staff:
        raise Forbidden("Only agents and admins may use canned replies.", code="staff_only")


def _may_manage(actor: Actor, reply: CannedReply) -> None:
    if reply.scope == "shared" and actor.role != "admin":
        raise Forbidden("Only admins may change shared canned replies.", code="admin_only")


async def list_replies(conn: Connection, actor: Actor) -> list[CannedReply]:
    """The shared canned replies and ``actor``'s own, by title."""
    return await fetch_all(conn, CannedReply, Q.list_canned_replies, {"viewer_id": actor.id})


async def get_reply(conn: Connection, actor: Actor, reply_id: UUID) -> CannedReply:
    """One canned reply ``actor`` may use: shared, or their own."""
    reply = await fetch_optional(
        conn, CannedReply, Q.get_canned_reply, {"reply_id": reply_id, "viewer_id": actor.id}
    )
    if reply is None:
        raise NotFound("No such canned reply.", code="canned_reply_not_found")
    return reply


async def _write(conn: Connection, query: Any, params: dict[str, Any]) -> CannedReply:
    try:
        async with conn.transaction():
            return await fetch_one(conn, CannedReply, query, params)
    except psycopg.errors.UniqueViolation as exc:
        raise (_title_taken(exc) or exc) from exc


async def create_reply(conn: Connection, actor: Actor, body: CannedReplyCreate) -> CannedReply:
    """Save a canned reply: a shared one (admins) or ``actor``'s own."""
    if body.scope == "shared" and actor.role != "admin":
        raise Forbidden(
            "Only admins may add shared canned replies; save it as personal.",
            code="admin_only",
            field="scope",
        )
    _check_body(body.body)
    return await _write(
        conn,
        Q.insert_canned_reply,
        {
            "owner_id": None if body.scope == "shared" else actor.id,
            "title": body.title,
            "body": body.body,
            "set_status": body.set_status,
            "add_labels": await _labels(conn, body.add_labels),
            "created_by": actor.id,
        },
    )


async def update_reply(
    conn: Connection, actor: Actor, reply_id: UUID, body: CannedReplyUpdate
) -> CannedReply:
    """Change a canned reply: its owner, or an admin for a shared one."""
    reply = await get_reply(conn, actor, reply_id)
    _may_manage(actor, reply)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("body") is not None:
        _check_body(changes["body"])
    if changes.get("add_labels") is not None:
        changes["add_labels"] = await _labels(conn, changes["add_labels"])
    merged = {
        "title": changes.get("title") or reply.title,
        "body": changes.get("body") or reply.body,
        "set_status": changes.get("set_status", reply.set_status),
        "add_labels": (
            changes["add_labels"] if changes.get("add_labels") is not None else reply.add_labels
        ),
    }
    return await _write(conn, Q.update_canned_reply, {"reply_id": reply_id, **merged})


async def delete_reply(conn: Connection, actor: Actor, reply_id: UUID) -> None:
    """Delete a canned reply: its owner, or an admin for a shared one."""
    reply = await get_reply(conn, actor, reply_id)
    _may_manage(actor, reply)
    await execute(conn, Q.delete_canned_reply, {"reply_id": reply_id})


async def render_for_ticket(
    conn: Connection, actor: Actor, ticket: Ticket, reply_id: UUID
) -> RenderedReply:
    """``reply_id`` filled in with ``ticket``'s public values and ``actor`` as the agent."""
    reply = await get_reply(conn, actor, reply_id)
    (submitter,) = await users.users_by_id(conn, {ticket.user_id})
    context = templates.ReplyContext(
        ticket_number=ticket.number,
        ticket_title=ticket.title,
        submitter_name=submitter.name,
        agent_name=actor.name,
    )
    try:
        text = templates.render(reply.body, context)
    except templates.TemplateRefused as exc:
        raise InvalidInput(str(exc), code="bad_template", field="body") from None
    return RenderedReply(
        canned_reply_id=reply.id,
        body=text,
        set_status=reply.set_status,
        add_labels=reply.add_labels,
    )


async def send_reply(
    conn: Connection,
    actor: Actor,
    ticket: Ticket,
    reply_id: UUID,
    text: str,
    *,
    is_internal: bool,
    reopen_window: timedelta,
) -> Comment:
    """Add ``text`` (the agent's edit of ``reply_id``) to ``ticket`` and apply the canned
    reply's status and labels, in the caller's transaction: a refused action (a status
    the flow does not allow, a label deleted since) refuses the comment too. ``ticket``
    must be locked by the caller."""
    reply = await get_reply(conn, actor, reply_id)
    comment = await comments.add_comment(
        conn, actor, ticket, text, is_internal=is_internal, reopen_window=reopen_window
    )
    if reply.set_status is None and not reply.add_labels:
        return comment
    # A staff reply leaves the locked ticket's fields as they were: its tags are current.
    update: dict[str, Any] = {}
    if reply.set_status is not None:
        update["status"] = reply.set_status
    if reply.add_labels:
        tags = sorted({*ticket.tags, *await _labels(conn, reply.add_labels)})
        if len(tags) > tickets.MAX_TAGS:
            raise InvalidInput(
                f"A ticket carries at most {tickets.MAX_TAGS} labels.",
                code="too_many_labels",
                field="add_labels",
            )
        update["tags"] = tags
    await tickets.update_ticket(
        conn,
        actor,
        str(ticket.id),
        TicketUpdate.model_validate(update),
        if_match=None,
        reopen_window=reopen_window,
    )
    return comment
