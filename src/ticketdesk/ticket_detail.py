"""The ticket page's data, assembled from the domains that own each part.

A ticket (``tickets``: its fields, people and the status changes its reader may make)
with its conversation (``comments``), its files (``attachments``) and its GitHub state
(``github``). This is the one module that knows all of them: those domains build on
tickets and know nothing of each other's parts of the page.
"""

from datetime import timedelta

from pydantic import BaseModel, Field

from ticketdesk.attachments import service as attachments
from ticketdesk.attachments.schemas import Attachment
from ticketdesk.auth.service import Actor
from ticketdesk.comments import service as comments
from ticketdesk.comments.schemas import Comment
from ticketdesk.db import Connection
from ticketdesk.github import service as github
from ticketdesk.github.schemas import GitHubLink
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.schemas import Ticket, TicketSummary


class ReplyRefusal(BaseModel):
    """Why the caller may not reply on a ticket now: the problem a reply would get."""

    code: str = Field(
        description="What to branch on: reopen_window_passed (closed longer ago than the "
        "reopen window; open a new ticket)."
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


async def assemble(
    conn: Connection,
    actor: Actor,
    ticket: Ticket,
    *,
    reopen_window: timedelta,
    just_opened: bool = False,
) -> TicketDetail:
    """``ticket`` with its people, conversation and files, as ``actor`` may see them;
    ``reopen_window`` is the setting that decides whether they may still reply. A ticket
    ``just_opened`` in this transaction has neither comments nor files to read."""
    [summary] = await tickets.summaries(conn, actor, [ticket], reopen_window=reopen_window)
    refusal = tickets.reopen_refusal(actor, ticket, reopen_window, field="comment")
    return TicketDetail(
        **summary.model_dump(),
        reply_refusal=ReplyRefusal(code=refusal.code, detail=refusal.detail) if refusal else None,
        comments=[] if just_opened else await comments.list_comments(conn, actor, ticket),
        attachments=[] if just_opened else await attachments.list_attachments(conn, ticket.id),
        github=await github.link_state(conn, actor, ticket.id),
    )
