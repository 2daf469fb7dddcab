"""The ticket page's data, assembled from the domains that own each part.

A ticket (``tickets``: its fields, people and the status changes its reader may make)
with its conversation (``comments``), its files (``attachments``), its GitHub state
(``github``) and its satisfaction rating (``csat``). This is the one module that knows
all of them: those domains build on tickets and know nothing of each other's parts of
the page.
"""

from datetime import timedelta

from pydantic import BaseModel, Field

from ticketdesk.attachments import service as attachments
from ticketdesk.attachments.schemas import Attachment
from ticketdesk.auth.service import Actor
from ticketdesk.comments import service as comments
from ticketdesk.comments.schemas import Comment
from ticketdesk.csat import service as csat
from ticketdesk.csat.schemas import Satisfaction
from ticketdesk.db import Connection
from ticketdesk.errors import NotFound
from ticketdesk.github import service as github
from ticketdesk.github.schemas import GitHubLink
from ticketdesk.merges import service as merges
from ticketdesk.merges.schemas import Merge, TicketPointer
from ticketdesk.tickets import access, followers
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.followers import Follower
from ticketdesk.tickets.schemas import Ticket, TicketSummary


class ReplyRefusal(BaseModel):
    """Why the caller may not reply on a ticket now: the problem a reply would get."""

    code: str = Field(
        description="What to branch on: reopen_window_passed (closed longer ago than the "
        "reopen window; open a new ticket); ticket_merged (merged into another ticket: "
        "reply there)."
    )
    detail: str = Field(description="The reason, in words for the reader.")


class TicketDetail(TicketSummary):
    """A ticket with its conversation and files (internal notes only for staff)."""

    comments: list[Comment]
    attachments: list[Attachment]
    github: GitHubLink | None = Field(
        default=None, description="The linked GitHub issue and its sync state (staff only)."
    )
    reply_refusal: ReplyRefusal | None = Field(
        default=None,
        description="Why the caller may not reply now (the 409 a reply would get), or null.",
    )
    following: bool = Field(
        default=False,
        description="Whether the caller hears of the ticket's public replies and status "
        "(its submitter does unless they unfollowed it).",
    )
    followers: list[Follower] | None = Field(
        default=None, description="Who follows the ticket besides its submitter (staff only)."
    )
    merged_into: TicketPointer | None = Field(
        default=None,
        description="The ticket this duplicate was merged into (its conversation went there), "
        "if the caller may read it.",
    )
    merge: Merge | None = Field(
        default=None,
        description="This duplicate's merge, with until when it can be undone (staff only).",
    )
    duplicates: list[TicketPointer] | None = Field(
        default=None, description="The tickets merged into this one (staff only)."
    )
    csat: Satisfaction | None = Field(
        default=None,
        description="The latest satisfaction rating round, once the ticket was resolved or "
        "closed: for staff, and for its submitter (their own); null for anyone else.",
    )


async def _merged_into(conn: Connection, actor: Actor, ticket: Ticket) -> TicketPointer | None:
    """The ticket the duplicate ``ticket`` was merged into, named only to whoever may read
    it: its title is another customer's, once the duplicate's submitter unfollowed it."""
    if ticket.merged_into_id is None:
        return None
    try:
        main = await access.get_readable_ticket(conn, actor, str(ticket.merged_into_id))
    except NotFound:
        return None
    return TicketPointer(id=main.id, number=main.number, title=main.title)


async def assemble(
    conn: Connection,
    actor: Actor,
    ticket: Ticket,
    *,
    reopen_window: timedelta,
    undo_window: timedelta = timedelta(0),
    just_opened: bool = False,
) -> TicketDetail:
    """``ticket`` with its people, conversation and files, as ``actor`` may see them;
    ``reopen_window`` is the setting that decides whether they may still reply, and
    ``undo_window`` how long a merge may be undone. A ticket ``just_opened`` in this
    transaction has neither comments nor files to read."""
    staff = access.sees_followers(actor)
    [summary] = await tickets.summaries(conn, actor, [ticket], reopen_window=reopen_window)
    refusal = tickets.reply_refusal(actor, ticket, reopen_window)
    return TicketDetail(
        **summary.model_dump(),
        reply_refusal=ReplyRefusal(code=refusal.code, detail=refusal.detail) if refusal else None,
        # A ticket just opened is followed by its submitter, the caller.
        following=True if just_opened else await followers.is_following(conn, actor, ticket),
        followers=await followers.list_followers(conn, ticket.id) if staff else None,
        merged_into=await _merged_into(conn, actor, ticket),
        merge=await merges.active_merge(conn, ticket.id, undo_window=undo_window)
        if staff and ticket.merged_into_id
        else None,
        duplicates=[] if just_opened or not staff else await merges.duplicates_of(conn, ticket.id),
        comments=[] if just_opened else await comments.list_comments(conn, actor, ticket),
        attachments=[] if just_opened else await attachments.list_attachments(conn, ticket.id),
        github=await github.link_state(conn, actor, ticket.id),
        csat=None if just_opened else await csat.satisfaction(conn, actor, ticket),
    )
