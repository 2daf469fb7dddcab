"""Mail about tickets: who hears of which change, and how a burst becomes one mail.

Who gets what. A ticket's submitter hears that the ticket was received (the one mail
about one's own action: it carries the ticket's number), of public replies, status
changes, the resolution (with links to accept or reopen) and closing (these two with
one-click links that rate the ticket good or bad: ``csat``). Staff hear of new
tickets (``notifications.new_tickets``: all, only while still unassigned when the mail
goes out, or none), of tickets assigned to them and of the submitter's replies on them
(while the ticket is still theirs when the mail goes out);
admins of escalated tickets (``tickets.service.escalate_overdue``), a ticket's assignee
(or, with none, its team's staff, else admins) of its SLA breaches
(``sla_breach_audience``). Nobody is mailed about their own action, each person turns
kinds off for themselves, and changes about internal notes are never queued, so no note
reaches any mailbox; replies are read back at send time through
``comments.get_public_comment``, which cannot return a note. The one internal changes
that are mailed are escalations and SLA breaches: their only audience is staff.

How a burst becomes one mail, and why nothing is lost or sent twice:

1. ``on_change`` runs in the change's transaction. It writes a ``notifications`` row per
   recipient and upserts the recipient's ``notification_batches`` row for the ticket.
   Inserting the batch (none was open) also defers one ``notifications.send`` job, due
   when the burst ends (``burst_seconds`` after the first change). Joining an open batch
   updates its row, which keeps it locked until the change commits. Rows and job commit
   or vanish with the change, so a committed change always has a batch and a job.
2. The job (``tasks.send_notifications``) first, in one transaction, takes a share lock
   on the ticket's row (changes lock it before the batch, so the job must too, or the
   two can deadlock), deletes the batch if it is due, and moves every pending
   notification of the pair into a new ``notification_mails`` row with a fixed
   Message-ID. The delete waits for any transaction holding the batch's lock, and the
   claim that follows is a new statement, so it sees what those transactions committed.
   A change that commits after the delete finds no batch, opens a new one and queues a
   new job: no notification is left without a job, or claimed by two mails. A retry
   that finds a batch not yet due leaves it, and its notifications, to that batch's job.
3. The job then sends the pair's pending mails one by one, outside any transaction,
   marking each sent as soon as the server has taken it. Jobs for one pair share a
   procrastinate lock, so two never send at once. An unreachable server raises
   ``MailUnavailable``: the job is retried with backoff and sends the same mail (same
   Message-ID) again; what was marked sent is not sent again. When its last attempt
   fails too, the pair's mails still pending are marked failed with that error. A
   failed mail shows on the admins' Failed mail screen, where an admin can queue it
   again (``retry_mail``: pending, and a new job for the pair). A 5xx refusal, or a
   mail that cannot be put together (``compose`` raised), marks that mail failed with the
   reason, for admins to see; the pair's other mails still go, and the job then gives up.
   Header text taken from titles and names is flattened to one line first.

The one duplicate left possible is SMTP's own: the server took the mail and the worker
died before marking it sent. The retry sends it again with the same Message-ID, which
mail clients use to show it once.
"""

import dataclasses
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any, cast, get_args
from uuid import UUID

from psycopg.types.json import Jsonb
from pydantic import BaseModel

from ticketdesk.auth.service import Actor
from ticketdesk.changes import Change
from ticketdesk.comments import service as comments
from ticketdesk.config import Settings
from ticketdesk.csat import service as csat
from ticketdesk.db import Connection
from ticketdesk.errors import Conflict, Forbidden, InvalidInput, NotFound
from ticketdesk.jobs.queue import defer
from ticketdesk.mail import addresses, templates
from ticketdesk.notifications.schemas import (
    FailedMail,
    FailedMailPage,
    Kind,
    KindChoice,
    NotificationSettings,
    NotificationSettingsUpdate,
    QueuedMail,
    Unsubscribed,
)
from ticketdesk.sql import (
    execute,
    fetch_all,
    fetch_optional,
    fetch_optional_value,
    fetch_value,
    fetch_values,
    load_queries,
)
from ticketdesk.tickets import followers
from ticketdesk.tickets.access import get_readable_ticket
from ticketdesk.tickets.schemas import Ticket
from ticketdesk.users import service as users
from ticketdesk.users.schemas import STAFF_ROLES, User

Q = load_queries(__package__)

SEND_TASK = "notifications.send"
FOLLOWER_TASK = "notifications.mail_address_follower"

LABELS: dict[Kind, str] = {
    "ticket_created": "My new ticket was received",
    "reply": "A public reply on my ticket",
    "status_changed": "My ticket's status changed",
    "resolved": "My ticket was resolved",
    "closed": "My ticket was closed",
    "new_ticket": "A new ticket was opened",
    "assigned": "A ticket was assigned to me",
    "submitter_replied": "The submitter replied on a ticket assigned to me",
    "escalation": "A ticket waited too long for a reply from staff",
    "sla_breach": (
        "A ticket assigned to me (or to nobody, for its team, else admins) missed an SLA target"
    ),
    "mention": "Someone mentioned me in an internal note",
}
_SUBMITTER_KINDS: tuple[Kind, ...] = (
    "ticket_created",
    "reply",
    "status_changed",
    "resolved",
    "closed",
)
_STAFF_KINDS: tuple[Kind, ...] = (
    "new_ticket",
    "assigned",
    "submitter_replied",
    "sla_breach",
    "mention",
)
_KINDS_BY_ROLE: dict[str, tuple[Kind, ...]] = {
    "user": _SUBMITTER_KINDS,
    "agent": _SUBMITTER_KINDS + _STAFF_KINDS,
    "admin": _SUBMITTER_KINDS + _STAFF_KINDS + ("escalation",),
}
# The changes anyone is mailed about (see ``_audiences``).
_NOTIFIED_CHANGES = frozenset(
    {"created", "commented", "status_changed", "assigned", "escalated", "sla_breached"}
)
# Of those, the ones recorded as internal (staff-only) and mailed all the same: every
# audience ``_audiences`` gives them is staff. Internal notes are not among them.
_STAFF_ONLY_CHANGES = frozenset({"escalated", "sla_breached"})
_STATUS_WORDS = {
    "open": "open",
    "in_progress": "in progress",
    "waiting": "waiting for you",
    "resolved": "resolved",
    "closed": "closed",
}


def kinds_for(role: str) -> tuple[Kind, ...]:
    """The kinds of mail a person with ``role`` may get, in the settings screen's order."""
    return _KINDS_BY_ROLE[role]


# --- settings -----------------------------------------------------------------------


async def publish_settings(conn: Connection, settings: Settings) -> None:
    """Record whether and how mail is sent, for every process's change hook."""
    await execute(
        conn,
        Q.publish_settings,
        {
            "mail_enabled": settings.mail_enabled,
            "new_tickets": settings.notifications.new_tickets,
            "burst_seconds": settings.notifications.burst_seconds,
        },
    )


# --- queueing -----------------------------------------------------------------------


class _ChangeContext(BaseModel):
    mail_enabled: bool
    new_tickets: str
    burst_seconds: float
    submitter_id: UUID
    assignee_id: UUID | None
    # The active staff of the ticket's team (none without a team).
    team_member_ids: list[UUID] = []
    # The people following the ticket besides its submitter (``tickets.followers``), and
    # whether its submitter unfollowed it.
    follower_ids: list[UUID] = []
    submitter_muted: bool = False
    # The change is a public reply by someone following the ticket who is not staff (the
    # submitter of a merged duplicate, say): the customer's side, as the submitter's is.
    by_customer_follower: bool = False


@dataclass(frozen=True)
class _Audience:
    """Who should hear of a change, as one kind of notification."""

    kind: Kind
    user_ids: list[UUID] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    # Only the receipt of a new ticket goes to the person whose action it is.
    include_actor: bool = False
    # What the mail reads back at send time; the rest is read from the ticket then.
    data: dict[str, Any] = field(default_factory=dict)


def _audiences(change: Change, context: _ChangeContext) -> list[_Audience]:
    """Who hears of ``change``: its submitter's kinds reach the ticket's followers too."""
    if change.is_internal:
        if change.kind == "commented" and change.data.get("mentioned"):
            # The only mail an internal note causes: to the staff it names, without its text.
            mentioned = [UUID(user_id) for user_id in change.data["mentioned"]]
            return [_Audience("mention", mentioned, data={"comment_id": change.data["comment_id"]})]
        if change.kind in _STAFF_ONLY_CHANGES:
            return _ticket_audiences(change, context)
        return []
    audiences = _ticket_audiences(change, context)
    followers = [user_id for user_id in context.follower_ids if user_id != context.submitter_id]
    if followers:
        for audience in list(audiences):
            if audience.kind in _SUBMITTER_KINDS and audience.user_ids == [context.submitter_id]:
                audiences.append(dataclasses.replace(audience, user_ids=followers))
        if change.kind == "commented" and change.actor_id == context.submitter_id:
            # The submitter's reply is a public reply to everyone following it (the
            # assignee hears of it as such already).
            reply = {"comment_id": change.data["comment_id"]}
            others = [user_id for user_id in followers if user_id != context.assignee_id]
            audiences.append(_Audience("reply", others, data=reply))
    if context.by_customer_follower and context.assignee_id is not None:
        # Told as the submitter's reply is, and not twice.
        for audience in audiences:
            if audience.kind == "reply" and context.assignee_id in audience.user_ids:
                audience.user_ids.remove(context.assignee_id)
        reply = {"comment_id": change.data["comment_id"], "follower": True}
        audiences.append(_Audience("submitter_replied", [context.assignee_id], data=reply))
    if context.submitter_muted and change.kind != "created":
        audiences = [a for a in audiences if a.user_ids != [context.submitter_id]]
    return audiences


def _ticket_audiences(change: Change, context: _ChangeContext) -> list[_Audience]:
    submitter = [context.submitter_id]
    match change.kind:
        case "created":
            # Opened by staff for the submitter (on the phone, at the desk): the mail says who.
            opened_for = {"on_behalf": True} if "on_behalf_of" in change.data else {}
            audiences = [
                _Audience("ticket_created", submitter, include_actor=True, data=opened_for)
            ]
            if context.new_tickets != "none":
                audiences.append(_Audience("new_ticket", roles=sorted(STAFF_ROLES)))
            return audiences
        case "commented" if change.actor_id == context.submitter_id:
            if context.assignee_id is None:
                return []
            reply = {"comment_id": change.data["comment_id"]}
            return [_Audience("submitter_replied", [context.assignee_id], data=reply)]
        case "commented":
            return [_Audience("reply", submitter, data={"comment_id": change.data["comment_id"]})]
        case "status_changed":
            to = change.data.get("to")
            kind: Kind = "status_changed"
            if to == "resolved" or to == "closed":
                kind = to
            data = {"to": to}
            if "after_days" in change.data:  # closed by tickets.auto_close
                data["after_days"] = change.data["after_days"]
            return [_Audience(kind, submitter, data=data)]
        case "assigned" if change.data.get("to"):
            # Made by an assignment rule: the mail names it (there is no one to name).
            rule = {"rule": change.data["rule"]["name"]} if "rule" in change.data else {}
            return [_Audience("assigned", [UUID(change.data["to"]["id"])], data=rule)]
        case "escalated":
            alert = {"priority": change.data["priority"], "hours": change.data["after_hours"]}
            return [_Audience("escalation", roles=["admin"], data=alert)]
        case "sla_breached":
            due = datetime.fromisoformat(change.data["due_at"]).astimezone(UTC)
            breach = {"target": change.data["target"], "due": f"{due:%Y-%m-%d %H:%M} UTC"}
            return [sla_breach_audience(context, breach)]
    return []


def sla_breach_audience(context: _ChangeContext, breach: dict[str, Any]) -> _Audience:
    """Who hears that a ticket missed an SLA target: its assignee; with none, the active
    staff of its team; with no team (or nobody active in it), the admins."""
    if context.assignee_id is not None:
        return _Audience("sla_breach", [context.assignee_id], data=breach)
    if context.team_member_ids:
        return _Audience("sla_breach", list(context.team_member_ids), data=breach)
    return _Audience("sla_breach", roles=["admin"], data=breach)


async def on_change(conn: Connection, change: Change) -> None:
    """Queue the notifications a change to a ticket causes, in the change's transaction.

    Nothing is queued while mail is off, and nothing about an internal note, ever: of
    internal changes, only those whose every audience is staff (``_STAFF_ONLY_CHANGES``),
    and the mention of a staff member in a note (without the note: ``compose``). A public
    reply also goes to the ticket's addresses with no account (``_defer_address_mails``).
    """
    if change.kind not in _NOTIFIED_CHANGES:
        return
    mentions = change.kind == "commented" and bool(change.data.get("mentioned"))
    if change.is_internal and change.kind not in _STAFF_ONLY_CHANGES and not mentions:
        return
    context = await fetch_optional(
        conn, _ChangeContext, Q.change_context, {"ticket_id": change.ticket_id}
    )
    if context is None or not context.mail_enabled:
        return
    if not change.is_internal:
        context.follower_ids = await followers.user_follower_ids(conn, change.ticket_id)
        context.submitter_muted = await followers.muted(
            conn, change.ticket_id, context.submitter_id
        )
        if change.kind == "commented":
            await _defer_address_mails(conn, change)
            if change.actor_id in context.follower_ids:
                [actor] = await users.users_by_id(conn, [change.actor_id])
                context.by_customer_follower = actor.role not in STAFF_ROLES
    await _queue(
        conn, change.ticket_id, change.actor_id, _audiences(change, context), context.burst_seconds
    )


async def _defer_address_mails(conn: Connection, change: Change) -> None:
    # One mail a public reply to each address following the ticket: no burst, no
    # settings (they have no account); the link in it removes the address.
    for follower in await followers.address_followers(conn, change.ticket_id):
        await defer(
            conn,
            FOLLOWER_TASK,
            lock=f"mail-address:{follower.id}",
            follower_id=str(follower.id),
            comment_id=change.data["comment_id"],
        )


class _Batch(BaseModel):
    recipient_id: UUID
    due_at: datetime
    opened: bool


async def _queue(
    conn: Connection,
    ticket_id: UUID,
    actor_id: UUID | None,
    audiences: Sequence[_Audience],
    burst_seconds: float,
) -> None:
    recipients: set[UUID] = set()
    for audience in audiences:
        recipients.update(
            await fetch_values(
                conn,
                UUID,
                Q.insert_notifications,
                {
                    "ticket_id": ticket_id,
                    "kind": audience.kind,
                    "actor_id": actor_id,
                    "data": Jsonb(audience.data),
                    "user_ids": audience.user_ids,
                    "roles": audience.roles,
                    "include_actor": audience.include_actor,
                },
            )
        )
    if not recipients:
        return
    batches = await fetch_all(
        conn,
        _Batch,
        Q.open_batches,
        {
            "ticket_id": ticket_id,
            "recipient_ids": sorted(recipients),
            "burst_seconds": burst_seconds,
        },
    )
    for batch in batches:
        if batch.opened:
            await _defer_send(conn, ticket_id, batch.recipient_id, run_at=batch.due_at)


async def _defer_send(
    conn: Connection, ticket_id: UUID, recipient_id: UUID, *, run_at: datetime | None = None
) -> None:
    # One lock per pair: two jobs never send the same pair's mails at once.
    await defer(
        conn,
        SEND_TASK,
        lock=f"mail:{ticket_id}:{recipient_id}",
        run_at=run_at,
        ticket_id=str(ticket_id),
        recipient_id=str(recipient_id),
    )


# --- sending ------------------------------------------------------------------------


class Mail(BaseModel):
    """A ``notification_mails`` row still to be sent."""

    id: UUID
    ticket_id: UUID
    recipient_id: UUID
    message_id: str


class _Notification(BaseModel):
    kind: Kind
    actor_id: UUID | None
    data: dict[str, Any]


async def gather_due(
    conn: Connection, settings: Settings, ticket_id: UUID, recipient_id: UUID
) -> None:
    """Close the pair's burst if it is due and put its notifications into one new mail.

    Call inside a transaction (see the module's docstring, step 2).
    """
    params = {"ticket_id": ticket_id, "recipient_id": recipient_id}
    if await fetch_optional_value(conn, bool, Q.lock_ticket_key, params) is None:
        return  # the ticket is gone, and its notifications with it
    closed = await fetch_optional_value(conn, datetime, Q.close_due_batch, params)
    if closed is None:
        return
    domain = addresses.domain_of(settings.mail_from)
    mail_id = await fetch_value(
        conn,
        UUID,
        Q.insert_mail,
        {**params, "message_id": addresses.message_id(domain, ticket_id)},
    )
    await execute(conn, Q.claim_pending, {**params, "mail_id": mail_id})


async def unsent_mails(conn: Connection, ticket_id: UUID, recipient_id: UUID) -> list[Mail]:
    """The pair's mails not yet taken by the server, oldest first."""
    return await fetch_all(
        conn, Mail, Q.unsent_mails, {"ticket_id": ticket_id, "recipient_id": recipient_id}
    )


async def mark_sent(conn: Connection, mail: Mail) -> None:
    """The server took the mail."""
    await execute(conn, Q.mark_sent, {"mail_id": mail.id})


async def mark_failed(conn: Connection, mail: Mail, error: str) -> None:
    """The mail cannot be sent, ever: keep the reason for admins."""
    await execute(conn, Q.mark_failed, {"mail_id": mail.id, "error": error})


async def fail_unsent(conn: Connection, ticket_id: UUID, recipient_id: UUID, error: str) -> None:
    """The pair's job gave up on its mails still pending: they fail, for admins to see."""
    await execute(
        conn,
        Q.fail_unsent,
        {"ticket_id": ticket_id, "recipient_id": recipient_id, "error": error},
    )


async def note_attempt_error(conn: Connection, mail: Mail, error: str) -> None:
    """An attempt failed in a way a later one may not."""
    await execute(conn, Q.note_attempt_error, {"mail_id": mail.id, "error": error})


async def cancel(conn: Connection, mail: Mail) -> None:
    """Nothing is left to say in the mail: it is not sent."""
    await execute(conn, Q.cancel_mail, {"mail_id": mail.id})


@dataclass(frozen=True)
class _Section:
    kind: Kind
    actor: str | None
    data: dict[str, Any]
    body: str | None = None


async def compose(conn: Connection, settings: Settings, mail: Mail) -> EmailMessage | None:
    """The message for ``mail`` as things stand now, or ``None`` when nothing is left to
    say to its recipient (deactivated, turned these kinds off, no longer the ticket's
    assignee for assignment news, or the replies are gone)."""
    found = await users.users_by_id(conn, [mail.recipient_id])
    if not found or not found[0].is_active:
        return None
    recipient = found[0]
    reader = Actor(id=recipient.id, email=recipient.email, name=recipient.name, role=recipient.role)
    try:
        # Followers read the public side of a ticket that is not theirs.
        ticket = await get_readable_ticket(conn, reader, str(mail.ticket_id))
    except NotFound:
        return None
    allowed = set(kinds_for(recipient.role)) - set(await _opted_out(conn, recipient.id))
    if settings.notifications.new_tickets == "unassigned" and ticket.assigned_to_user_id:
        allowed.discard("new_ticket")
    if ticket.assigned_to_user_id != recipient.id:
        # Reassigned (or unassigned) since: the ticket is no longer theirs to hear of.
        allowed -= {"assigned", "submitter_replied"}
    if recipient.id == ticket.user_id:
        if await followers.muted(conn, ticket.id, recipient.id):
            allowed -= set(_SUBMITTER_KINDS) - {"ticket_created"}
    elif not await followers.follows(conn, recipient.id, ticket.id):
        # Unfollowed since: the submitter's kinds reached them as a follower only.
        allowed -= set(_SUBMITTER_KINDS)
    notifications = [
        n
        for n in await fetch_all(conn, _Notification, Q.mail_notifications, {"mail_id": mail.id})
        if n.kind in allowed
    ]
    people = {
        user.id: user
        for user in await users.users_by_id(
            conn, {n.actor_id for n in notifications if n.actor_id} | {ticket.user_id}
        )
    }
    sections = []
    for notification in notifications:
        body = None
        if notification.kind in ("reply", "submitter_replied"):
            comment = await comments.get_public_comment(conn, UUID(notification.data["comment_id"]))
            if comment is None:
                continue
            body = comment.body
        actor = people.get(notification.actor_id) if notification.actor_id else None
        sections.append(
            _Section(notification.kind, actor.name if actor else None, notification.data, body)
        )
    if not sections:
        return None
    rating_urls = None
    if recipient.id == ticket.user_id and any(s.kind in ("resolved", "closed") for s in sections):
        round_id = await csat.mailed_round(conn, ticket.id)
        if round_id is not None:
            token = csat.link_token(settings.secret(), round_id)
            rating_urls = {
                choice: f"{settings.public_url}/rate#token={token}&rating={choice}"
                for choice in ("good", "bad")
            }
    return _message(
        settings, mail, recipient, ticket, people[ticket.user_id], sections, rating_urls
    )


def _message(
    settings: Settings,
    mail: Mail,
    recipient: User,
    ticket: Ticket,
    submitter: User,
    sections: list[_Section],
    rating_urls: dict[str, str] | None,
) -> EmailMessage:
    base = settings.public_url
    kinds = sorted({section.kind for section in sections})
    token = unsubscribe_token(settings.secret(), recipient.id, kinds)
    ticket_url = f"{base}/tickets/{ticket.number}"
    rendered = templates.render(
        "notification",
        ticket=ticket,
        ticket_url=ticket_url,
        accept_url=f"{ticket_url}#accept",
        reopen_url=f"{ticket_url}#reopen",
        submitter=submitter.name,
        recipient=recipient.name,
        own=recipient.id == ticket.user_id,
        sections=sections,
        rating_urls=rating_urls,
        rating_valid_for=csat.LINK_TTL_WORDS,
        status_words=_STATUS_WORDS,
        kind_labels=[LABELS[kind] for kind in kinds],
        unsubscribe_url=f"{base}/unsubscribe/{token}",
        settings_url=f"{base}/profile/notifications",
    )
    domain = addresses.domain_of(settings.mail_from)
    thread = addresses.thread_id(ticket.id, domain)
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = formataddr((_one_line(recipient.name), recipient.email))
    message["Subject"] = _one_line(f"[#{ticket.number}] {ticket.title}")
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = mail.message_id
    message["In-Reply-To"] = thread
    message["References"] = thread
    message["Reply-To"] = addresses.reply_address(
        settings.mail_from, settings.secret(), ticket.number
    )
    message["List-Unsubscribe"] = f"<{base}/api/v1/notifications/unsubscribe/{token}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # RFC 3834: machine-made, so auto-responders do not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


# Line breaks and other control characters: a header must not hold them (Python refuses
# to write one that does), whatever a title or a name was saved with.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _one_line(text: str) -> str:
    return _CONTROL.sub(" ", text)


# --- each person's choices ------------------------------------------------------------


async def _opted_out(conn: Connection, user_id: UUID) -> list[str]:
    return await fetch_values(conn, str, Q.opted_out_kinds, {"user_id": user_id})


async def get_settings(
    conn: Connection, actor: Actor, *, mail_enabled: bool
) -> NotificationSettings:
    """The kinds of mail ``actor`` may get, each on or off."""
    off = set(await _opted_out(conn, actor.id))
    return NotificationSettings(
        mail_enabled=mail_enabled,
        kinds=[
            KindChoice(kind=kind, label=LABELS[kind], enabled=kind not in off)
            for kind in kinds_for(actor.role)
        ],
    )


async def update_settings(
    conn: Connection, actor: Actor, body: NotificationSettingsUpdate, *, mail_enabled: bool
) -> NotificationSettings:
    """Turn kinds of mail on or off for ``actor``."""
    mine = kinds_for(actor.role)
    for index, choice in enumerate(body.kinds):
        if choice.kind not in mine:
            raise Forbidden(
                f"{choice.kind} mail is not for your role.",
                code="kind_not_available",
                field=f"kinds.{index}.kind",
            )
    on = [c.kind for c in body.kinds if c.enabled]
    off = [c.kind for c in body.kinds if not c.enabled]
    await execute(conn, Q.opt_in, {"user_id": actor.id, "kinds": on})
    await execute(conn, Q.opt_out, {"user_id": actor.id, "kinds": off})
    return await get_settings(conn, actor, mail_enabled=mail_enabled)


# --- one-click unsubscribe (RFC 8058) -------------------------------------------------


def _signature(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, f"unsubscribe:{payload}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def unsubscribe_token(secret: bytes, user_id: UUID, kinds: Sequence[Kind]) -> str:
    """A token that turns ``kinds`` off for ``user_id``, usable without signing in."""
    payload = f"{user_id.hex}.{'-'.join(kinds)}"
    return f"{payload}.{_signature(secret, payload)}"


def check_unsubscribe_token(secret: bytes, token: str) -> None:
    """Refuse a token this server did not sign."""
    _read_token(secret, token)


def _read_token(secret: bytes, token: str) -> tuple[UUID, list[Kind]]:
    invalid = NotFound("This unsubscribe link is not valid.", code="bad_unsubscribe_token")
    payload, _, signature = token.rpartition(".")
    if not hmac.compare_digest(signature.encode(), _signature(secret, payload).encode()):
        raise invalid
    user_hex, _, joined = payload.partition(".")
    known = get_args(Kind)
    kinds = [cast(Kind, kind) for kind in joined.split("-") if kind in known]
    try:
        return UUID(hex=user_hex), kinds
    except ValueError:
        raise invalid from None


async def unsubscribe(conn: Connection, secret: bytes, token: str) -> Unsubscribed:
    """Turn off the kinds of mail a signed unsubscribe token names, for its user."""
    user_id, kinds = _read_token(secret, token)
    if not await fetch_value(conn, bool, Q.is_active_person, {"user_id": user_id}):
        raise NotFound("This unsubscribe link is not valid.", code="bad_unsubscribe_token")
    await execute(conn, Q.opt_out, {"user_id": user_id, "kinds": kinds})
    return Unsubscribed(
        kinds=[KindChoice(kind=kind, label=LABELS[kind], enabled=False) for kind in kinds]
    )


# --- failed mail, for admins ---------------------------------------------------------


async def list_failed_mails(conn: Connection, *, cursor: str | None, limit: int) -> FailedMailPage:
    """Mail that failed for good, newest first, a page at a time."""
    before_id = None
    if cursor is not None:
        try:
            before_id = UUID(cursor)
        except ValueError:
            raise InvalidInput(
                "The cursor is not valid.", code="bad_cursor", field="cursor"
            ) from None
    rows = await fetch_all(
        conn, FailedMail, Q.list_failed_mails, {"before_id": before_id, "limit": limit + 1}
    )
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return FailedMailPage(items=rows[:limit], next_cursor=next_cursor)


class _MailState(BaseModel):
    status: str
    ticket_id: UUID
    recipient_id: UUID


async def retry_mail(conn: Connection, settings: Settings, mail_id: UUID) -> QueuedMail:
    """Queue a failed mail to be sent again now, as things stand then (see ``compose``)."""
    mail = await fetch_optional(conn, _MailState, Q.lock_mail, {"mail_id": mail_id})
    if mail is None:
        raise NotFound(f"Mail {mail_id} does not exist.", code="mail_not_found")
    if not settings.mail_enabled:
        raise Conflict("This server does not send mail (smtp_url is unset).", code="mail_disabled")
    if mail.status != "failed":
        raise Conflict(
            f"Only failed mail can be sent again; mail {mail_id} is {mail.status}.",
            code="mail_not_failed",
        )
    await execute(conn, Q.retry_mail, {"mail_id": mail_id})
    await _defer_send(conn, mail.ticket_id, mail.recipient_id)
    return QueuedMail(id=mail_id, status="pending")


# --- addresses with no account that follow a ticket ----------------------------------


async def compose_address_mail(
    conn: Connection, settings: Settings, follower_id: UUID, comment_id: UUID
) -> EmailMessage | None:
    """The mail telling an address follower of one public reply, or ``None`` when it no
    longer follows or the reply is gone. Only a public reply is ever read here."""
    follower = await followers.address_follower(conn, follower_id)
    comment = await comments.get_public_comment(conn, comment_id)
    if follower is None or comment is None or comment.ticket_id != follower.ticket_id:
        return None
    ticket = await get_readable_ticket(conn, _SYSTEM_READER, str(follower.ticket_id))
    [submitter] = await users.users_by_id(conn, [ticket.user_id])
    base = settings.public_url
    token = followers.unfollow_token(settings.secret(), follower.id)
    rendered = templates.render(
        "follower_reply",
        ticket=ticket,
        author=comment.author.name,
        body=comment.body,
        submitter=submitter.name,
        unsubscribe_url=f"{base}/unfollow/{token}",
    )
    domain = addresses.domain_of(settings.mail_from)
    thread = addresses.thread_id(ticket.id, domain)
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = follower.email
    message["Subject"] = _one_line(f"[#{ticket.number}] {ticket.title}")
    message["Date"] = format_datetime(datetime.now(UTC))
    # The same for every attempt: a retry after a lost answer is shown once.
    message["Message-ID"] = f"<follower-{follower.id}.{comment.id}@{domain}>"
    message["In-Reply-To"] = thread
    message["References"] = thread
    message["List-Unsubscribe"] = f"<{base}/api/v1/followers/unsubscribe/{token}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


# Reads a ticket for an address follower: what it is shown is the public reply alone.
_SYSTEM_READER = Actor(
    id=UUID(int=0), email="system@ticketdesk.invalid", name="ticketdesk", role="admin"
)
