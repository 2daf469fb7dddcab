"""GitHub → ticketdesk: verifying webhook deliveries and applying them to linked tickets.

The body is hashed as it streams in, then checked field by field against the models in
``schemas`` (only what is read here, strictly typed and bounded); a signed payload
GitHub would never send is refused and its delivery recorded as rejected. A delivery is
applied in one transaction together with its ``X-GitHub-Delivery`` row, so a replay
(or GitHub's own redelivery) changes nothing, and a delivery that fails half-way, or was
rejected, can be redelivered. Changes are
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
repositories or unlinked issues are acknowledged and ignored; other events are refused
(by the endpoint, from the headers).
"""

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import timedelta

from pydantic import ValidationError

from ticketdesk.auth.service import Actor
from ticketdesk.changes import Change, record_change
from ticketdesk.comments import service as comments
from ticketdesk.db import Connection
from ticketdesk.errors import InvalidInput, Unauthorized
from ticketdesk.github import service
from ticketdesk.github.schemas import (
    GitHubIssue,
    IssueCommentPayload,
    IssuesPayload,
    PingPayload,
    WebhookOutcome,
    WebhookPayload,
)
from ticketdesk.github.service import Link
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.access import get_visible_ticket

SIGNATURE_PREFIX = "sha256="
_DONE_STATUSES = frozenset({"resolved", "closed"})
_PAYLOADS: dict[str, type[WebhookPayload]] = {
    "ping": PingPayload,
    "issues": IssuesPayload,
    "issue_comment": IssueCommentPayload,
}
# The events read here; any other is refused before its body is read.
EVENTS = frozenset(_PAYLOADS)


async def read_signed_body(chunks: AsyncIterator[bytes], secret: bytes, header: str) -> bytearray:
    """The body, read chunk by chunk with its HMAC computed as it arrives (and not copied
    again once in); refused when ``X-Hub-Signature-256`` (``header``) does not match it."""
    mac = hmac.new(secret, digestmod=hashlib.sha256)
    body = bytearray()
    async for chunk in chunks:
        mac.update(chunk)
        body += chunk
    expected = SIGNATURE_PREFIX + mac.hexdigest()
    # Compared in constant time.
    if not hmac.compare_digest(expected.encode(), header.strip().encode()):
        raise Unauthorized("X-Hub-Signature-256 does not match the body.", code="bad_signature")
    return body


class RejectedPayload(InvalidInput):
    """A signed payload GitHub would never send; ``action`` is its action, when readable."""

    def __init__(self, detail: str, *, field: str | None, action: str | None) -> None:
        super().__init__(detail, code="bad_payload", field=field)
        self.action = action


def parse_payload(event: str, body: bytes | bytearray) -> WebhookPayload:
    """The payload of a supported ``event``, checked field by field (see schemas)."""
    try:
        # Strict UTF-8 (json.loads would also guess UTF-16 and UTF-32 from the bytes);
        # NaN and Infinity are not JSON; nesting deep enough to exhaust the parser's
        # recursion is refused like any other broken body.
        data = json.loads(body.decode(), parse_constant=_not_json)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise RejectedPayload(
            "The body could not be read as JSON in UTF-8.", field=None, action=None
        ) from None
    if not isinstance(data, dict):
        raise RejectedPayload("The body is not a JSON object.", field=None, action=None)
    try:
        return _PAYLOADS[event].model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        field = ".".join(str(part) for part in errors[0]["loc"])
        action = data.get("action")
        usable = isinstance(action, str) and all(e["loc"][:1] != ("action",) for e in errors)
        raise RejectedPayload(
            f"The delivery's payload has no usable {field}: {errors[0]['msg']}.",
            field=field,
            action=action if usable else None,
        ) from None


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


async def receive(
    conn: Connection,
    *,
    event: str,
    delivery_id: str,
    payload: WebhookPayload,
    reopen_window: timedelta,
) -> WebhookOutcome:
    """Apply one verified delivery, once; ``reopen_window`` is the setting replies follow."""
    action = None if isinstance(payload, PingPayload) else payload.action
    if not await service.claim_delivery(conn, delivery_id, event, action):
        return "duplicate"
    outcome = await _apply(conn, payload, reopen_window)
    await service.set_delivery_outcome(conn, delivery_id, outcome)
    return outcome


async def _apply(
    conn: Connection, payload: WebhookPayload, reopen_window: timedelta
) -> WebhookOutcome:
    if isinstance(payload, PingPayload):
        return "pong"
    repo, issue = payload.repository.full_name, payload.issue
    if isinstance(payload, IssuesPayload) and payload.action == "opened":
        return await _issue_opened(conn, repo, issue)
    link = await service.link_for_issue(conn, repo, issue.number)
    if link is None:
        return "ignored"
    actor = await service.github_actor(conn)
    if isinstance(payload, IssuesPayload):
        match payload.action:
            case "closed":
                return await _issue_closed(conn, actor, link, issue)
            case "reopened":
                return await _issue_reopened(conn, actor, link)
            case "edited":
                return await _issue_edited(conn, actor, link, payload)
        return "ignored"
    match payload.action:
        case "created":
            return await _comment_created(conn, actor, link, payload, reopen_window)
        case "edited":
            return await _comment_edited(conn, actor, link, payload, reopen_window)
        case "deleted":
            return await _comment_deleted(conn, actor, payload)
    return "ignored"


async def _issue_opened(conn: Connection, repo: str, issue: GitHubIssue) -> WebhookOutcome:
    ticket_id = service.ticket_id_in_issue(issue.body)
    if ticket_id is None:
        return "ignored"
    adopted = await service.adopt_issue(
        conn, ticket_id, repo, number=issue.number, url=issue.html_url, title=issue.title
    )
    if not adopted:
        return "ignored"
    actor = await service.github_actor(conn)
    await tickets.apply_outside_change(
        conn, actor, ticket_id, {"github_issue_number": issue.number}
    )
    return "applied"


async def _issue_closed(
    conn: Connection, actor: Actor, link: Link, issue: GitHubIssue
) -> WebhookOutcome:
    ticket = await get_visible_ticket(conn, actor, str(link.ticket_id), for_update=True)
    await service.note_issue_open(conn, link.ticket_id, is_open=False)
    if ticket.status in _DONE_STATUSES:
        return "ignored"
    status = "closed" if issue.state_reason == "not_planned" else "resolved"
    await tickets.apply_outside_change(conn, actor, link.ticket_id, {"status": status})
    return "applied"


async def _issue_reopened(conn: Connection, actor: Actor, link: Link) -> WebhookOutcome:
    ticket = await get_visible_ticket(conn, actor, str(link.ticket_id), for_update=True)
    await service.note_issue_open(conn, link.ticket_id, is_open=True)
    if ticket.status not in _DONE_STATUSES or ticket.merged_into_id is not None:
        # A merged duplicate stays closed: its conversation went on elsewhere.
        return "ignored"
    await tickets.apply_outside_change(conn, actor, link.ticket_id, {"status": "open"})
    return "applied"


async def _issue_edited(
    conn: Connection, actor: Actor, link: Link, payload: IssuesPayload
) -> WebhookOutcome:
    title = payload.issue.title
    renamed = payload.changes.title if payload.changes is not None else None
    previous = renamed.previous if renamed is not None else link.issue_title
    await service.note_issue_title(conn, link.ticket_id, title)
    if previous is None or previous == title:
        return "ignored"
    await record_change(
        conn,
        Change(
            ticket_id=link.ticket_id,
            kind="github_issue_renamed",
            actor_id=actor.id,
            data={"from": previous, "to": title, "login": payload.sender.login},
            is_internal=True,
        ),
    )
    return "applied"


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
    payload: IssueCommentPayload,
    reopen_window: timedelta,
) -> WebhookOutcome:
    github_id, body = payload.comment.id, payload.comment.body or ""
    if not body.strip() or await comments.find_github_comment(conn, github_id) is not None:
        return "ignored"
    if await _is_ours(conn, github_id, body):
        return "ignored"
    ticket = await get_visible_ticket(conn, actor, str(link.ticket_id), for_update=True)
    if ticket.merged_into_id is not None:
        # A comment on a merged duplicate's issue belongs where its conversation went.
        ticket = await get_visible_ticket(conn, actor, str(ticket.merged_into_id), for_update=True)
    await comments.add_comment(
        conn,
        actor,
        ticket,
        body,
        is_internal=False,
        reopen_window=reopen_window,
        github=comments.GitHubOrigin(login=_author(payload), comment_id=github_id),
    )
    return "applied"


def _author(payload: IssueCommentPayload) -> str:
    """The comment's author; GitHub sends none for some, and then the one who sent it."""
    user = payload.comment.user or payload.sender
    return user.login


async def _comment_edited(
    conn: Connection,
    actor: Actor,
    link: Link,
    payload: IssueCommentPayload,
    reopen_window: timedelta,
) -> WebhookOutcome:
    github_id, body = payload.comment.id, payload.comment.body or ""
    if await comments.find_github_comment(conn, github_id) is None:
        # Never seen (its "created" delivery was missed): take it as new.
        return await _comment_created(conn, actor, link, payload, reopen_window)
    if not body.strip():
        return "ignored"
    await comments.edit_github_comment(conn, actor, github_id, body)
    return "applied"


async def _comment_deleted(
    conn: Connection, actor: Actor, payload: IssueCommentPayload
) -> WebhookOutcome:
    deleted = await comments.delete_github_comment(conn, actor, payload.comment.id)
    return "applied" if deleted else "ignored"
