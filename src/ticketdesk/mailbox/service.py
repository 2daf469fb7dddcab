"""Replies by mail: a mail that arrived becomes a public comment by its sender, once.

Always public, also from staff: an internal note cannot be written by mail, so a staff
member who answers a notification about an internal note posts for the submitter to read.

A reply finds its ticket by the signed reply address it was sent to, or by the thread
ids it refers to (``ticketdesk.mail.addresses``). Only the ticket's submitter, staff and
people following it may post to a ticket this way; anyone else is refused. The sender is
the one address in From: that, with the reply address or thread, is all that identifies
them here, and checking that From is genuine (SPF, DKIM, DMARC) is the receiving MTA's job
(``ticketdesk.mailbox.message``). Auto-replies and bounces are
ignored, and nothing is ever sent back to them. With ``mail.open_tickets_by_mail`` a
mail that replies to no ticket opens one for a known user. A reply to a merged
duplicate is posted on the ticket it was merged into.

The addresses in Cc of a mail from a ticket's submitter follow that ticket
(``tickets.followers``; at most ``MAX_COPIED`` a mail): an address with an account as
that person, any other as an address that hears of public replies.

Each message is claimed by the hash of its Message-ID (or of its bytes) in
``inbound_messages`` inside the caller's transaction: a second worker holding the same
message waits for the first to commit, then finds it taken. A message that fails for
an unexpected reason is kept, bytes and reason, for admins to retry or dismiss.
"""

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import getaddresses
from typing import Literal
from uuid import UUID

import psycopg
import psycopg.errors
from pydantic import ValidationError

from ticketdesk.attachments import service as attachments
from ticketdesk.attachments.service import MAX_FILES, StoredUpload
from ticketdesk.attachments.storage import AttachmentStorage
from ticketdesk.auth.service import Actor
from ticketdesk.comments import service as comments
from ticketdesk.comments.schemas import CommentCreate
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    TicketdeskError,
    Unavailable,
    database_unavailable,
)
from ticketdesk.jobs.queue import describe_error
from ticketdesk.mail.addresses import (
    domain_of,
    is_own_address,
    looks_like_reply_address,
    ticket_in_thread,
    tickets_in_recipients,
)
from ticketdesk.mailbox.message import (
    Envelope,
    IncomingMail,
    envelope,
    raw_envelope,
    read_mail,
)
from ticketdesk.mailbox.schemas import InboundMail, InboundMailPage, InboundStatus
from ticketdesk.sql import (
    execute,
    fetch_all,
    fetch_one,
    fetch_optional_value,
    load_queries,
)
from ticketdesk.tickets import access, followers
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.schemas import Ticket, TicketCreate
from ticketdesk.users import service as users

log = logging.getLogger(__name__)

Q = load_queries(__package__)

Source = Literal["imap", "pipe"]
# What a ticket opened by mail is called when its subject is too short for a title.
_TITLE_SUFFIX = " (by e-mail)"
_MIN_TITLE, _MAX_TITLE = 10, 200
# What Markdown would read as formatting in a file name.
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_{}\[\]()<>#+!|~-]")
# The most addresses in Cc one mail makes followers of its ticket.
MAX_COPIED = 10


class Refused(Exception):
    """A mail that the rules do not let through; the message says why."""


@dataclass(frozen=True)
class Outcome:
    """What became of one message."""

    status: InboundStatus
    reason: str | None = None
    ticket: Ticket | None = None


@dataclass(frozen=True)
class Delivery:
    """A message taken in: its row, and whether it had been taken in before."""

    mail: InboundMail
    duplicate: bool


async def _sender(conn: Connection, mail: IncomingMail) -> Actor:
    """The account the mail is from; ``Refused`` for a stranger."""
    if not mail.sender:
        raise Refused("the mail does not name exactly one sender in From")
    try:
        user = await users.get_user_by_email(conn, mail.sender)
    except NotFound:
        raise Refused(f"{mail.sender} has no account here") from None
    if not user.is_active:
        raise Refused(f"the account of {mail.sender} is deactivated")
    return Actor(id=user.id, email=user.email, name=user.name, role=user.role)


def _addressed_ticket(mail: IncomingMail, settings: Settings) -> str | None:
    """The ticket the mail replies to, by reply address or thread, as a reference."""
    numbers = tickets_in_recipients(mail.recipients, settings.mail_from, settings.secret())
    if numbers:
        return str(numbers[0])
    for value in mail.recipients:
        for address in _addresses(value):
            if looks_like_reply_address(address, settings.mail_from):
                raise Refused(f"the reply address {address} is not one ticketdesk gave out")
    ticket_id = ticket_in_thread(mail.thread_refs, domain_of(settings.mail_from))
    return str(ticket_id) if ticket_id else None


def _addresses(header_value: str) -> list[str]:
    return [address.lower() for _, address in getaddresses([header_value]) if address]


def _literal(text: str) -> str:
    """``text`` as Markdown that shows it as it is: a file name in it stays a name, never
    a link, an image or emphasis."""
    return _MARKDOWN_SPECIAL.sub(r"\\\g<0>", text)


async def _store_files(
    conn: Connection,
    storage: AttachmentStorage,
    settings: Settings,
    actor: Actor,
    ticket: Ticket,
    mail: IncomingMail,
) -> tuple[list[StoredUpload], list[str]]:
    """The mail's files that pass the upload rules, stored; and a line for each refused."""
    if not mail.files:
        return [], []
    if access.only_reads(actor, ticket):
        # A follower replies but adds no files, as through the API (``tickets.followers``).
        reason = "only the ticket's submitter and staff attach files to it."
        return [], [f"{attachments.display_name(file.filename)}: {reason}" for file in mail.files]
    try:
        rules = await attachments.upload_rules(conn, settings, actor.id)
    except TicketdeskError as exc:
        return [], [f"{file.filename or 'file'}: {exc.detail}" for file in mail.files]
    stored: list[StoredUpload] = []
    refused: list[str] = []
    try:
        for file in mail.files:
            name = attachments.display_name(file.filename)
            if len(stored) == rules.max_files:
                refused.append(f"{name}: at most {rules.max_files} files are attached a mail.")
                continue
            try:
                stored.append(
                    await attachments.store_file(
                        storage,
                        ticket.id,
                        rules,
                        filename=file.filename,
                        declared_type=file.declared_type,
                        content=file.content,
                    )
                )
                rules = rules.after(stored[-1])
            except Unavailable:
                raise  # the store failed, not the file: the mail fails, kept for admins
            except TicketdeskError as exc:
                refused.append(f"{name}: {exc.detail}")
    except BaseException:
        await attachments.remove_stored(storage, stored)
        raise
    return stored, refused


def _comment_body(text: str, refused: list[str], *, has_files: bool) -> str:
    body = text or ("(The mail had no text; see the attached files.)" if has_files else "")
    if refused:
        lines = "\n".join(f"- {_literal(line)}" for line in refused)
        body = f"{body}\n\n_Files of this mail that were not attached:_\n{lines}".strip()
    if not body:
        raise Refused("the mail has no new text and no files")
    try:
        return CommentCreate(comment=body).comment
    except ValidationError as exc:
        raise Refused(f"the text cannot be a comment: {exc.errors()[0]['msg']}") from None


def _title(subject: str) -> str:
    title = " ".join(subject.split())[:_MAX_TITLE]
    if len(title) < _MIN_TITLE:
        title = f"{title or 'A request'}{_TITLE_SUFFIX}"
    return title


async def _open_ticket(conn: Connection, actor: Actor, mail: IncomingMail) -> Ticket:
    try:
        body = TicketCreate(type="support", title=_title(mail.subject), description=mail.text)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise Refused(f"the mail cannot open a ticket: {error['loc'][0]} {error['msg']}") from None
    ticket, _ = await tickets.create_ticket(conn, actor, body, idempotency_key=None)
    return ticket


async def _act_on(
    conn: Connection, storage: AttachmentStorage, settings: Settings, mail: IncomingMail
) -> Outcome:
    """Post the mail to its ticket, or open one; raise ``Refused`` when the rules say no."""
    if mail.automatic is not None:
        return Outcome("ignored", mail.automatic)
    if is_own_address(mail.sender, settings.mail_from):
        return Outcome("ignored", "sent by ticketdesk itself")
    ref = _addressed_ticket(mail, settings)
    actor = await _sender(conn, mail)
    if ref is None:
        if not settings.mail.open_tickets_by_mail:
            raise Refused("it replies to no ticket, and opening tickets by mail is off")
        ticket = await _open_ticket(conn, actor, mail)
    else:
        try:
            readable = await access.get_readable_ticket(conn, actor, ref)
        except NotFound:
            raise Refused(
                f"{mail.sender} is neither the submitter of ticket {ref}, nor staff, nor "
                "following it"
            ) from None
        if readable.merged_into_id is not None:
            readable = await _merged_into(conn, actor, mail, ref, readable.merged_into_id)
        ticket = await access.lock_visible_ticket(conn, readable)
        if ticket.merged_into_id is not None:
            # Merged between the read and the lock: the merge has committed by now.
            ticket = await access.lock_visible_ticket(
                conn, await _merged_into(conn, actor, mail, ref, ticket.merged_into_id)
            )
    stored, refused = await _store_files(conn, storage, settings, actor, ticket, mail)
    try:
        note = None
        if ref is not None:
            note = _comment_body(mail.text, refused, has_files=bool(stored))
        elif refused:
            # A new ticket's description is the mail's text; refused files are noted below.
            note = _comment_body("", refused, has_files=False)
        if note is not None:
            await comments.add_comment(
                conn,
                actor,
                ticket,
                note,
                is_internal=False,
                reopen_window=settings.reopen_window,
                # Only a reply answers the submitter: the note of a new ticket's refused
                # files leaves the ticket open.
                staff_reply_waits=settings.tickets.reply_moves_to_waiting and ref is not None,
            )
        if stored:
            await attachments.record_uploads(
                conn, actor, ticket, stored, quota_bytes=settings.attachment_quota_bytes
            )
    except BaseException:
        await attachments.remove_stored(storage, stored)
        raise
    if actor.id == ticket.user_id:
        await _follow_copied(conn, settings, actor, ticket, mail)
    return Outcome("posted", None if ref is not None else "opened a ticket", ticket)


async def _merged_into(
    conn: Connection, actor: Actor, mail: IncomingMail, ref: str, main_id: UUID
) -> Ticket:
    """A reply to the merged duplicate ``ref`` belongs where its conversation went."""
    try:
        return await access.get_readable_ticket(conn, actor, str(main_id))
    except NotFound:
        raise Refused(
            f"ticket {ref} was merged into a ticket {mail.sender} does not follow"
        ) from None


async def _follow_copied(
    conn: Connection, settings: Settings, actor: Actor, ticket: Ticket, mail: IncomingMail
) -> None:
    """The submitter copied these addresses on their mail: they follow the ticket."""
    copied = [
        address
        for address in mail.copied
        if address != actor.email.lower() and not is_own_address(address, settings.mail_from)
    ]
    for address in copied[:MAX_COPIED]:
        try:
            person = await users.get_user_by_email(conn, address)
        except NotFound:
            await followers.add_address(conn, ticket.id, address, via="cc")
            continue
        if person.is_active and person.id != ticket.user_id:
            await followers.add_person(conn, ticket.id, person.id, via="cc")


async def _process(
    conn: Connection, storage: AttachmentStorage, settings: Settings, raw: bytes
) -> Outcome:
    """Act on ``raw`` in a savepoint: a refusal or a failure leaves nothing behind but the
    reason. A database that went away is not a failure of the message: it propagates
    (``database_unavailable``)."""
    try:
        async with conn.transaction():
            return await _act_on(conn, storage, settings, read_mail(raw))
    except Refused as exc:
        return Outcome("refused", str(exc))
    except TicketdeskError as exc:
        if not isinstance(exc, Unavailable):
            return Outcome("refused", exc.detail)
        # The file store failed, nothing about the message: kept, with the store's error.
        failure: BaseException = exc.__cause__ or exc
    except Exception as exc:
        if database_unavailable(exc):
            raise
        failure = exc
    log.warning("an inbound message failed; kept for admins", exc_info=failure)
    return Outcome("failed", describe_error(failure, [settings.secret().decode()]))


async def _settle(conn: Connection, mail_id: int, outcome: Outcome, raw: bytes) -> InboundMail:
    await execute(
        conn,
        Q.settle_message,
        {
            "id": mail_id,
            "status": outcome.status,
            # A reason may quote the mail (a sender, a file name): NUL cannot be stored.
            "reason": outcome.reason.replace("\x00", "") if outcome.reason else None,
            "ticket_id": outcome.ticket.id if outcome.ticket else None,
            "raw": raw,
        },
    )
    return await fetch_one(conn, InboundMail, Q.get_message, {"id": mail_id})


async def _claim(conn: Connection, head: Envelope, source: Source) -> int | None:
    return await fetch_optional_value(
        conn,
        int,
        Q.claim_message,
        {
            "message_key": head.key,
            "message_id": head.message_id,
            "source": source,
            "sender": head.sender,
            "subject": head.subject,
        },
    )


def max_mail_bytes(settings: Settings) -> int:
    """The largest mail taken in: the most files a mail may attach, base64-encoded as mail
    carries them, and a megabyte for its text. A larger one is refused unread."""
    return MAX_FILES * settings.max_attachment_bytes * 4 // 3 + 1024 * 1024


async def _take(
    conn: Connection,
    head: Envelope,
    raw: bytes,
    source: Source,
    act: Callable[[], Awaitable[Outcome]],
) -> Delivery:
    """Claim the message ``head`` describes and settle it with what ``act`` makes of it."""
    outcome: Outcome | None = None
    try:
        async with conn.transaction():
            claimed = await _claim(conn, head, source)
    except psycopg.Error as exc:
        if database_unavailable(exc):
            raise
        # Headers the database will not take: the message is kept by the hash of its bytes.
        log.warning("an inbound message's headers cannot be recorded; kept for admins")
        head = raw_envelope(raw)
        claimed = await _claim(conn, head, source)
        outcome = Outcome("failed", f"its headers cannot be recorded: {describe_error(exc, [])}")
    if claimed is None:
        taken = await fetch_one(conn, InboundMail, Q.message_by_key, {"message_key": head.key})
        return Delivery(mail=taken, duplicate=True)
    if outcome is None:
        outcome = await act()
    return Delivery(mail=await _settle(conn, claimed, outcome, raw), duplicate=False)


async def receive(
    conn: Connection, storage: AttachmentStorage, settings: Settings, raw: bytes, source: Source
) -> Delivery:
    """Take in one message, once: post it, ignore it, refuse it, or keep it as failed.

    Only a database that went away raises: whatever a message holds, it gets its row.
    """

    async def act() -> Outcome:
        return await _process(conn, storage, settings, raw)

    return await _take(conn, envelope(raw), raw, source, act)


async def receive_too_large(
    conn: Connection, settings: Settings, headers: bytes, size: int, source: Source
) -> Delivery:
    """Record, once, a message over ``max_mail_bytes`` by its ``headers``: refused, and
    its bytes never read or kept."""
    reason = f"too large: {size} bytes, at most {max_mail_bytes(settings)} are taken in"

    async def act() -> Outcome:
        return Outcome("refused", reason)

    return await _take(conn, envelope(headers), headers, source, act)


async def list_messages(
    conn: Connection, *, status: InboundStatus, cursor: str | None, limit: int
) -> InboundMailPage:
    """Messages in one status, newest first, a page at a time."""
    before_id = None
    if cursor is not None:
        if not cursor.isdecimal():
            raise InvalidInput("The cursor is not valid.", code="bad_cursor", field="cursor")
        before_id = int(cursor)
    rows = await fetch_all(
        conn,
        InboundMail,
        Q.list_messages,
        {"status": status, "before_id": before_id, "limit": limit + 1},
    )
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return InboundMailPage(items=rows[:limit], next_cursor=next_cursor)


async def _failed_raw(conn: Connection, mail_id: int) -> bytes:
    """The bytes of a failed message, locked; ``NotFound`` or ``Conflict`` otherwise."""
    raw = await fetch_optional_value(conn, bytes, Q.lock_failed_message, {"id": mail_id})
    if raw is not None:
        return raw
    status = await fetch_optional_value(conn, str, Q.message_status, {"id": mail_id})
    if status is None:
        raise NotFound(f"Inbound message {mail_id} does not exist.", code="inbound_mail_not_found")
    raise Conflict(
        f"Only failed messages can be retried or dismissed; message {mail_id} is {status}.",
        code="inbound_mail_not_failed",
    )


async def retry_message(
    conn: Connection, storage: AttachmentStorage, settings: Settings, mail_id: int
) -> InboundMail:
    """Act on a failed message once more, now."""
    raw = await _failed_raw(conn, mail_id)
    await execute(conn, Q.count_attempt, {"id": mail_id})
    return await _settle(conn, mail_id, await _process(conn, storage, settings, raw), raw)


async def dismiss_message(conn: Connection, mail_id: int) -> InboundMail:
    """Let a failed message go: it stays listed as dismissed, its bytes are dropped."""
    await _failed_raw(conn, mail_id)
    await execute(conn, Q.dismiss_message, {"id": mail_id})
    return await fetch_one(conn, InboundMail, Q.get_message, {"id": mail_id})
