"""Links between tickets and GitHub issues, and queueing the work that keeps them in step.

Nothing here calls GitHub: requests and changes only write rows and queue a
``github.sync_ticket`` job in the caller's transaction (see ``github.tasks``), so GitHub
being slow or down never touches a user's request. ``on_change`` hears about every
change to a ticket (it is one of ``ticketdesk.subscriptions``).
"""

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from pydantic import BaseModel

from ticketdesk import broadcast
from ticketdesk.auth.service import Actor
from ticketdesk.changes import Change, record_change
from ticketdesk.config import GitHubSettings
from ticketdesk.db import Connection, constraint_name
from ticketdesk.errors import Conflict
from ticketdesk.github.schemas import GitHubLink, GitHubLinkRequest
from ticketdesk.jobs.queue import defer
from ticketdesk.sql import (
    execute,
    fetch_all,
    fetch_one,
    fetch_optional,
    fetch_optional_value,
    fetch_value,
    load_queries,
)
from ticketdesk.tickets import access
from ticketdesk.tickets.schemas import Ticket
from ticketdesk.users.service import GITHUB_SYSTEM_EMAIL, github_system_user

Q = load_queries(__package__)

SYNC_TICKET_TASK = "github.sync_ticket"
ISSUE_LABEL = "ticketdesk"
# Changes GitHub mirrors; internal notes never qualify.
_MIRRORED_KINDS = frozenset({"created", "title_changed", "status_changed", "commented"})
OPEN_STATUSES = frozenset({"open", "in_progress", "waiting"})

_ISSUE_MARKER = re.compile(r"<!-- ticketdesk: (\{[^\n]*?\}) -->")
_COMMENT_MARKER = re.compile(r"<!-- ticketdesk-comment: ([0-9a-f-]{36}) -->")


class Link(BaseModel):
    """A ``github_links`` row."""

    ticket_id: UUID
    repo: str
    issue_number: int | None
    issue_url: str | None
    issue_title: str | None
    pushed_title: str | None
    pushed_open: bool | None
    create_requested: bool
    create_attempted_at: datetime | None
    linked_at: datetime
    last_synced_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None

    @property
    def owner_and_name(self) -> tuple[str, str]:
        """The repository as ``(owner, name)``."""
        owner, name = self.repo.split("/", 1)
        return owner, name

    def public(self) -> GitHubLink:
        """The link as staff see it."""
        state = "error" if self.last_error else "synced" if self.last_synced_at else "pending"
        return GitHubLink(
            repo=self.repo,
            issue_number=self.issue_number,
            issue_url=self.issue_url,
            state=state,
            last_synced_at=self.last_synced_at,
            last_error=self.last_error,
        )


@dataclass(frozen=True)
class ChangeContext:
    """A ``change_context`` row: the integration's switches, and the changed ticket's."""

    enabled: bool
    repo: str | None
    auto_create_issues: bool
    linked: bool
    by_system: bool


@dataclass(frozen=True)
class CommentMirror:
    """A ``github_comment_mirrors`` row: a comment on its way to GitHub, or already there."""

    comment_id: UUID
    github_comment_id: int | None
    attempted_at: datetime
    mirrored_at: datetime | None


# --- markers: how ticketdesk recognises its own issues and comments on GitHub ---------


def issue_marker(ticket: Ticket, ticket_url: str) -> str:
    """The hidden block at the end of an issue ticketdesk creates."""
    data = {"id": str(ticket.id), "number": ticket.number, "url": ticket_url}
    # Escaped so no value can close the HTML comment early.
    encoded = json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e")
    return f"<!-- ticketdesk: {encoded} -->"


def ticket_id_in_issue(body: str | None) -> UUID | None:
    """The ticket an issue body's hidden block names, if it has one."""
    match = _ISSUE_MARKER.search(body or "")
    if match is None:
        return None
    try:
        return UUID(json.loads(match[1])["id"])
    except (ValueError, KeyError, TypeError):
        return None


def comment_marker(comment_id: UUID) -> str:
    """The hidden line at the end of a comment ticketdesk mirrors to GitHub."""
    return f"<!-- ticketdesk-comment: {comment_id} -->"


def comment_id_in_body(body: str | None) -> UUID | None:
    """The ticketdesk comment a GitHub comment body says it mirrors, if any."""
    match = _COMMENT_MARKER.search(body or "")
    return UUID(match[1]) if match else None


def is_open(ticket: Ticket) -> bool:
    """Whether the ticket's issue should be open."""
    return ticket.status in OPEN_STATUSES


# --- reading ----------------------------------------------------------------------------


async def get_link(conn: Connection, ticket_id: UUID, *, for_update: bool = False) -> Link | None:
    """A ticket's link, if it has one."""
    query = Q.lock_link if for_update else Q.get_link
    return await fetch_optional(conn, Link, query, {"ticket_id": ticket_id})


async def link_state(conn: Connection, actor: Actor, ticket_id: UUID) -> GitHubLink | None:
    """A ticket's GitHub sync state for staff; ``None`` for everyone else or no link."""
    if not access.sees_github(actor):
        return None
    link = await get_link(conn, ticket_id)
    return link.public() if link else None


async def link_for_issue(conn: Connection, repo: str, issue_number: int) -> Link | None:
    """The link to an issue of ``repo`` (owner/name, any case), if a ticket has one."""
    return await fetch_optional(
        conn, Link, Q.link_for_issue, {"repo": repo, "issue_number": issue_number}
    )


async def highest_issue_number(conn: Connection, repo: str) -> int:
    """The highest issue number of ``repo`` any ticket is linked to (0 for none)."""
    return await fetch_value(conn, int, Q.highest_issue_number, {"repo": repo})


async def github_actor(conn: Connection) -> Actor:
    """The system account GitHub's side acts as in ticketdesk."""
    user_id = await github_system_user(conn)
    return Actor(id=user_id, email=GITHUB_SYSTEM_EMAIL, name="GitHub", role="agent")


# --- queueing ---------------------------------------------------------------------------


async def publish_settings(conn: Connection, settings: GitHubSettings) -> None:
    """Record how this deployment runs the integration, for every process's change hooks."""
    await execute(
        conn,
        Q.publish_settings,
        {
            "enabled": settings.enabled,
            "repo": settings.repo,
            "auto_create_issues": settings.auto_create_issues,
        },
    )


async def defer_sync(conn: Connection, ticket_id: UUID) -> None:
    """Queue a sync of one ticket's issue; a ticket's syncs run one at a time, in order."""
    await defer(conn, SYNC_TICKET_TASK, lock=f"github:{ticket_id}", ticket_id=str(ticket_id))


async def on_change(conn: Connection, change: Change) -> None:
    """Queue GitHub work for a change to a ticket, in the change's transaction.

    New tickets get an issue when ``auto_create_issues`` is on; title, status and public
    comment changes of linked tickets are mirrored. Changes made by GitHub's own system
    account (webhooks, the sync job) are not sent back, so nothing echoes.
    """
    if change.kind not in _MIRRORED_KINDS or change.is_internal:
        return
    context = await fetch_optional(
        conn,
        ChangeContext,
        Q.change_context,
        {"ticket_id": change.ticket_id, "actor_id": change.actor_id},
    )
    if context is None or not context.enabled or context.by_system:
        return
    if change.kind == "created":
        if not context.auto_create_issues or context.repo is None:
            return
        await execute(
            conn, Q.insert_create_link, {"ticket_id": change.ticket_id, "repo": context.repo}
        )
    elif not context.linked:
        return
    await defer_sync(conn, change.ticket_id)


async def request_link(
    conn: Connection,
    settings: GitHubSettings,
    actor: Actor,
    ticket: Ticket,
    body: GitHubLinkRequest,
) -> GitHubLink:
    """Link an existing issue or ask for a new one; the GitHub side happens in a job."""
    if not settings.enabled or settings.repo is None:
        raise Conflict("The GitHub integration is not enabled.", code="github_disabled")
    existing = await get_link(conn, ticket.id, for_update=True)
    if existing is not None:
        if _same_request(existing, body):
            return existing.public()
        if existing.issue_url is not None or existing.create_requested:
            what = f"issue #{existing.issue_number}" if existing.issue_number else "a new issue"
            raise Conflict(
                f"Ticket #{ticket.number} is already linked to {what}.",
                code="github_already_linked",
            )
    if body.issue_number is not None:
        other = await link_for_issue(conn, settings.repo, body.issue_number)
        if other is not None:
            raise Conflict(
                f"Issue #{body.issue_number} is already linked to another ticket.",
                code="github_issue_taken",
                field="issue_number",
            )
    link = await _upsert_link(conn, ticket.id, settings.repo, body)
    data: dict[str, Any] = (
        {"issue_number": body.issue_number} if body.issue_number else {"create": True}
    )
    await record_change(
        conn,
        Change(ticket_id=ticket.id, kind="github_link_requested", actor_id=actor.id, data=data),
    )
    await defer_sync(conn, ticket.id)
    return link.public()


def _same_request(link: Link, body: GitHubLinkRequest) -> bool:
    if body.create:
        return link.create_requested
    return not link.create_requested and link.issue_number == body.issue_number


async def _upsert_link(
    conn: Connection, ticket_id: UUID, repo: str, body: GitHubLinkRequest
) -> Link:
    params = {
        "ticket_id": ticket_id,
        "repo": repo,
        "issue_number": body.issue_number,
        "create_requested": body.create,
    }
    try:
        async with conn.transaction():
            return await fetch_one(conn, Link, Q.upsert_link, params)
    except psycopg.errors.UniqueViolation as exc:
        if constraint_name(exc) == "github_links_issue_key":
            raise Conflict(
                f"Issue #{body.issue_number} is already linked to another ticket.",
                code="github_issue_taken",
                field="issue_number",
            ) from exc
        raise


# --- the sync job's bookkeeping (each call in the job's own short transaction) -----------


async def mark_create_attempt(conn: Connection, ticket_id: UUID) -> None:
    """Note, before sending it, that a create request may reach GitHub."""
    await execute(conn, Q.mark_create_attempt, {"ticket_id": ticket_id})


async def store_issue(
    conn: Connection,
    ticket_id: UUID,
    *,
    number: int,
    url: str,
    title: str,
    pushed_title: str,
    pushed_open: bool,
) -> None:
    """Record the issue a link points at and what it was last made to match."""
    await execute(
        conn,
        Q.store_issue,
        {
            "ticket_id": ticket_id,
            "issue_number": number,
            "issue_url": url,
            "issue_title": title,
            "pushed_title": pushed_title,
            "pushed_open": pushed_open,
        },
    )


async def adopt_issue(
    conn: Connection, ticket_id: UUID, repo: str, *, number: int, url: str, title: str
) -> bool:
    """Attach an issue found on GitHub to a ticket still waiting for its new issue."""
    adopted = await execute(
        conn,
        Q.adopt_issue,
        {
            "ticket_id": ticket_id,
            "repo": repo,
            "issue_number": number,
            "issue_url": url,
            "issue_title": title,
        },
    )
    return adopted > 0


async def record_pushed(
    conn: Connection,
    ticket_id: UUID,
    *,
    pushed_title: str,
    pushed_open: bool,
    issue_title: str | None,
) -> None:
    """Record what the issue was just made to match."""
    await execute(
        conn,
        Q.record_pushed,
        {
            "ticket_id": ticket_id,
            "pushed_title": pushed_title,
            "pushed_open": pushed_open,
            "issue_title": issue_title,
        },
    )


async def note_issue_open(conn: Connection, ticket_id: UUID, *, is_open: bool) -> None:
    """Record that the ticket now matches the issue's state, after GitHub changed it."""
    await execute(conn, Q.note_issue_open, {"ticket_id": ticket_id, "open": is_open})


async def note_issue_title(conn: Connection, ticket_id: UUID, title: str) -> None:
    """Record the issue's title as GitHub reports it."""
    await execute(conn, Q.note_issue_title, {"ticket_id": ticket_id, "issue_title": title})


async def record_synced(conn: Connection, ticket_id: UUID) -> None:
    """Mark a link as in step with its ticket, clearing the last error; staff's open pages
    hear of it if that changes what they show."""
    params = {"ticket_id": ticket_id}
    if await fetch_optional_value(conn, bool, Q.record_synced, params):
        await broadcast.announce_github(conn, ticket_id)


async def record_link_error(conn: Connection, ticket_id: UUID, error: str) -> None:
    """Show staff why the last sync of this ticket failed, on their open pages too when
    the error is a new one."""
    params = {"ticket_id": ticket_id, "error": error}
    if await fetch_optional_value(conn, bool, Q.record_link_error, params):
        await broadcast.announce_github(conn, ticket_id)


async def rate_limited_until(conn: Connection) -> datetime | None:
    """When GitHub's rate limit, as last reported to any worker, lifts (if still ahead)."""
    return await fetch_optional_value(conn, datetime, Q.rate_limited_until)


async def set_rate_limited_until(conn: Connection, until: datetime) -> None:
    """Tell every worker not to call GitHub before ``until``."""
    await execute(conn, Q.set_rate_limited_until, {"until": until})


async def comment_mirrors(conn: Connection, comment_ids: list[UUID]) -> dict[UUID, CommentMirror]:
    """The mirror rows of these comments, by comment id."""
    rows = await fetch_all(conn, CommentMirror, Q.comment_mirrors, {"comment_ids": comment_ids})
    return {row.comment_id: row for row in rows}


async def start_comment_mirror(conn: Connection, comment_id: UUID) -> None:
    """Note, before posting it, that a comment may reach GitHub."""
    await execute(conn, Q.start_comment_mirror, {"comment_id": comment_id})


async def finish_comment_mirror(conn: Connection, comment_id: UUID, github_comment_id: int) -> None:
    """Record the GitHub comment a ticketdesk comment became."""
    await execute(
        conn,
        Q.finish_comment_mirror,
        {"comment_id": comment_id, "github_comment_id": github_comment_id},
    )


async def note_comment_echo(conn: Connection, comment_id: UUID, github_comment_id: int) -> None:
    """Record the GitHub id of a mirrored comment seen in a webhook, if not known yet."""
    await execute(
        conn,
        Q.note_comment_echo,
        {"comment_id": comment_id, "github_comment_id": github_comment_id},
    )


async def is_mirrored_comment(conn: Connection, github_comment_id: int) -> bool:
    """Whether a GitHub comment is one ticketdesk posted."""
    return await fetch_value(
        conn, bool, Q.is_mirrored_comment, {"github_comment_id": github_comment_id}
    )


async def claim_delivery(
    conn: Connection, delivery_id: str, event: str, action: str | None
) -> bool:
    """Record a webhook delivery; ``False`` when it was received before (a replay)."""
    claimed = await execute(
        conn, Q.claim_delivery, {"delivery_id": delivery_id, "event": event, "action": action}
    )
    return claimed > 0


async def record_rejected_delivery(
    conn: Connection, delivery_id: str, event: str, action: str | None
) -> None:
    """Record a delivery refused for its payload."""
    await execute(
        conn,
        Q.record_rejected_delivery,
        {"delivery_id": delivery_id, "event": event, "action": action},
    )


async def set_delivery_outcome(conn: Connection, delivery_id: str, outcome: str) -> None:
    """Record what a delivery did."""
    await execute(conn, Q.set_delivery_outcome, {"delivery_id": delivery_id, "outcome": outcome})
