"""GitHub → ticketdesk: verifying webhook deliveries and applying them to linked tickets.

A delivery is applied in the request's transaction together with its
``X-GitHub-Delivery`` row, so a replay (or GitHub's own redelivery) changes nothing,
and a delivery that fails half-way leaves no trace and can be redelivered. Changes are
made as GitHub's system account, which the change hooks never send back to GitHub.

    issues opened        attaches the issue to the ticket its hidden block names, if
                         that ticket is still waiting for it (a create whose answer was lost)
    issues closed        ticket resolved (closed when GitHub says "not planned")
    issues reopened      ticket reopened
    issues edited        a renamed issue is noted in the ticket's (staff) timeline
    issue_comment        created/edited/deleted → the ticket's copy of that comment,
                         shown as written by GitHub with the author's login

Comments ticketdesk posted itself come back here too; they are recognised by their
GitHub id or their hidden marker and not copied again. Deliveries about other
repositories, unlinked issues or other events are acknowledged and ignored.
"""

import hashlib
import hmac
from datetime import timedelta
from typing import Any

from ticketdesk.auth.service import Actor
from ticketdesk.changes import Change, record_change
from ticketdesk.comments import service as comments
from ticketdesk.db import Connection
from ticketdesk.errors import InvalidInput
from ticketdesk.github import service
from ticketdesk.github.schemas import WebhookOutcome
from ticketdesk.github.service import Link
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.access import get_visible_ticket

SIGNATURE_PREFIX = "sha256="
_DONE_STATUSES = frozenset({"resolved", "closed"})


def signature_matches(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether ``X-Hub-Signature-256`` is the HMAC-SHA256 of the raw body, compared in
    constant time."""
    if header is None:
        return False
    expected = SIGNATURE_PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


def _bad_payload(what: str) -> InvalidInput:
    return InvalidInput(f"The delivery's payload has no usable {what}.", code="bad_payload")


async def receive(
    conn: Connection,
    *,
    event: str,
    delivery_id: str,
    payload: dict[str, Any],
    reopen_window: timedelta,
) -> WebhookOutcome:
    """Apply one verified delivery, once; ``reopen_window`` is the setting replies follow."""
    action = payload.get("action")
    if not await service.claim_delivery(
        conn, delivery_id, event, action if isinstance(action, str) else None
    ):
        return "duplicate"
    outcome = await _apply(conn, event, action, payload, reopen_window)
    await service.set_delivery_outcome(conn, delivery_id, outcome)
    return outcome


async def _apply(
    conn: Connection,
    event: str,
    action: object,
    payload: dict[str, Any],
    reopen_window: timedelta,
) -> WebhookOutcome:
    if event == "ping":
        return "pong"
    if event not in ("issues", "issue_comment"):
        return "ignored"
    try:
        repo = str(payload["repository"]["full_name"])
        issue = payload["issue"]
        number = int(issue["number"])
    except (KeyError, TypeError, ValueError):
        raise _bad_payload("repository or issue") from None
    if event == "issues" and action == "opened":
        return await _issue_opened(conn, repo, issue)
    link = await service.link_for_issue(conn, repo, number)
    if link is None:
        return "ignored"
    actor = await service.github_actor(conn)
    match event, action:
        case "issues", "closed":
            return await _issue_closed(conn, actor, link, issue)
        case "issues", "reopened":
            return await _issue_reopened(conn, actor, link)
        case "issues", "edited":
            return await _issue_edited(conn, actor, link, issue, payload)
        case "issue_comment", "created":
            return await _comment_created(conn, actor, link, payload, reopen_window)
        case "issue_comment", "edited":
            return await _comment_edited(conn, actor, link, payload, reopen_window)
        case "issue_comment", "deleted":
            return await _comment_deleted(conn, actor, payload)
    return "ignored"


async def _issue_opened(conn: Connection, repo: str, issue: dict[str, Any]) -> WebhookOutcome:
    ticket_id = service.ticket_id_in_issue(issue.get("body"))
    if ticket_id is None:
        return "ignored"
    number = int(issue["number"])
    adopted = await service.adopt_issue(
        conn,
        ticket_id,
        repo,
        number=number,
        url=str(issue.get("html_url", "")),
        title=str(issue.get("title", "")),
    )
    if not adopted:
        return "ignored"
    actor = await service.github_actor(conn)
    await tickets.apply_outside_change(conn, actor, ticket_id, {"github_issue_number": number})
    return "applied"


async def _issue_closed(
    conn: Connection, actor: Actor, link: Link, issue: dict[str, Any]
) -> WebhookOutcome:
    ticket = await get_visible_ticket(conn, actor, str(link.ticket_id), for_update=True)
    await service.note_issue_open(conn, link.ticket_id, is_open=False)
    if ticket.status in _DONE_STATUSES:
        return "ignored"
    status = "closed" if issue.get("state_reason") == "not_planned" else "resolved"
    await tickets.apply_outside_change(conn, actor, link.ticket_id, {"status": status})
    return "applied"


async def _issue_reopened(conn: Connection, actor: Actor, link: Link) -> WebhookOutcome:
    ticket = await get_visible_ticket(conn, actor, str(link.ticket_id), for_update=True)
    await service.note_issue_open(conn, link.ticket_id, is_open=True)
    if ticket.status not in _DONE_STATUSES:
        return "ignored"
    await tickets.apply_outside_change(conn, actor, link.ticket_id, {"status": "open"})
    return "applied"


async def _issue_edited(
    conn: Connection, actor: Actor, link: Link, issue: dict[str, Any], payload: dict[str, Any]
) -> WebhookOutcome:
    title = str(issue.get("title", ""))
    changes = payload.get("changes")
    previous = changes.get("title", {}).get("from") if isinstance(changes, dict) else None
    previous = previous if isinstance(previous, str) else link.issue_title
    await service.note_issue_title(conn, link.ticket_id, title)
    if previous is None or previous == title:
        return "ignored"
    sender = payload.get("sender")
    await record_change(
        conn,
        Change(
            ticket_id=link.ticket_id,
            kind="github_issue_renamed",
            actor_id=actor.id,
            data={
                "from": previous,
                "to": title,
                "login": sender.get("login") if isinstance(sender, dict) else None,
            },
            is_internal=True,
        ),
    )
    return "applied"


def _comment(payload: dict[str, Any]) -> tuple[int, str, str]:
    try:
        comment = payload["comment"]
        return int(comment["id"]), str(comment.get("body") or ""), str(comment["user"]["login"])
    except (KeyError, TypeError, ValueError):
        raise _bad_payload("comment") from None


async def _is_ours(conn: Connection, github_id: int, body: str) -> bool:
    """Whether a GitHub comment is one ticketdesk posted (noting its id if not yet known)."""
    if await service.is_mirrored_comment(conn, github_id):
        return True
    mirrored = service.comment_id_in_body(body)
    if mirrored is None:
        return False
    # The webhook can arrive before the job that posted the comment has recorded its id.
    await service.note_comment_echo(conn, mirrored, github_id)
    return True


async def _comment_created(
    conn: Connection,
    actor: Actor,
    link: Link,
    payload: dict[str, Any],
    reopen_window: timedelta,
) -> WebhookOutcome:
    github_id, body, login = _comment(payload)
    if not body.strip() or await comments.find_github_comment(conn, github_id) is not None:
        return "ignored"
    if await _is_ours(conn, github_id, body):
        return "ignored"
    ticket = await get_visible_ticket(conn, actor, str(link.ticket_id), for_update=True)
    await comments.add_comment(
        conn,
        actor,
        ticket,
        body,
        is_internal=False,
        reopen_window=reopen_window,
        github=comments.GitHubOrigin(login=login, comment_id=github_id),
    )
    return "applied"


async def _comment_edited(
    conn: Connection,
    actor: Actor,
    link: Link,
    payload: dict[str, Any],
    reopen_window: timedelta,
) -> WebhookOutcome:
    github_id, body, _ = _comment(payload)
    if await comments.find_github_comment(conn, github_id) is None:
        # Never seen (its "created" delivery was missed): take it as new.
        return await _comment_created(conn, actor, link, payload, reopen_window)
    if not body.strip():
        return "ignored"
    await comments.edit_github_comment(conn, actor, github_id, body)
    return "applied"


async def _comment_deleted(
    conn: Connection, actor: Actor, payload: dict[str, Any]
) -> WebhookOutcome:
    github_id, _, _ = _comment(payload)
    deleted = await comments.delete_github_comment(conn, actor, github_id)
    return "applied" if deleted else "ignored"
