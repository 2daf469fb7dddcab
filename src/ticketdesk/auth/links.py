"""Single-use links mailed to people: password resets, invitations, address checks.

The secret in a link is never stored, and never queued: the row keeps its SHA-256, and
the secret is an HMAC of the row's id under the server's key, so the job that mails a
link carries only the id and works the secret out again. A copy of the database (or of
the job queue) alone follows no link. A link works once, until it expires; a new link
of a purpose replaces the ones sent before it.

Asking for a link by address (a password reset, a new confirmation mail) answers the
same, after the same work, whether or not the address has an account: the request is
stored and a job looks the address up. It is limited per address and per client,
counting every request, so the limit tells nothing either.
"""

import base64
import hashlib
import hmac
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Literal
from uuid import UUID

from ticketdesk.auth.service import Actor, revoke_all_tokens
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.errors import Conflict, NotFound, RateLimited
from ticketdesk.jobs.queue import defer
from ticketdesk.mail.addresses import domain_of, message_id
from ticketdesk.mail.templates import render
from ticketdesk.sql import (
    execute,
    fetch_one,
    fetch_optional,
    fetch_optional_value,
    fetch_value,
    load_queries,
)
from ticketdesk.users import service as users
from ticketdesk.users.passwords import check_password
from ticketdesk.users.schemas import Role, User

Q = load_queries(__package__)

LinkPurpose = Literal["reset", "invite", "verify"]
SEND_LINK_TASK = "auth.send_account_link"
ANSWER_REQUEST_TASK = "auth.answer_link_request"
SIGNUP_NOTICE_TASK = "auth.send_signup_notice"

# How long each kind of link works, in seconds and in the words its mail uses.
LINK_TTL_SECONDS: dict[LinkPurpose, int] = {
    "reset": 3600,
    "invite": 7 * 24 * 3600,
    "verify": 2 * 24 * 3600,
}
LINK_TTL_WORDS: dict[LinkPurpose, str] = {"reset": "1 hour", "invite": "7 days", "verify": "2 days"}
# The web app's page for each kind of link.
LINK_PAGES: dict[LinkPurpose, str] = {
    "reset": "/reset-password",
    "invite": "/accept-invitation",
    "verify": "/verify-email",
}
SUBJECTS: dict[LinkPurpose, str] = {
    "reset": "Reset your ticketdesk password",
    "invite": "You are invited to ticketdesk",
    "verify": "Confirm your e-mail address for ticketdesk",
}
TEMPLATES: dict[LinkPurpose, str] = {
    "reset": "password_reset",
    "invite": "invitation",
    "verify": "verify_email",
}

# Requests for a link by address, within the window: per address (whoever asks), and
# per client (whichever addresses it asks for).
REQUEST_WINDOW_SECONDS = 3600
MAX_REQUESTS_PER_EMAIL = 3
MAX_REQUESTS_PER_IP = 20

# An account's owner hears of sign-ups with their address at most this often: whoever
# signs up again and again, from however many clients, cannot fill their inbox.
SIGNUP_NOTICE_INTERVAL_SECONDS = 3600

LINK_EXPIRED = "This link has expired or has been used already. Ask for a new one."


def link_secret(secret: bytes, link_id: UUID) -> str:
    """The secret a link carries: an HMAC of its id under the server's key."""
    digest = hmac.new(secret, f"account-link:{link_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def link_url(settings: Settings, purpose: LinkPurpose, token: str) -> str:
    """The address of a link's page, with its secret.

    The secret goes in the fragment: a browser never sends that to the server, so it
    reaches no access log and no ``Referer``; the page posts it instead.
    """
    return f"{settings.public_url}{LINK_PAGES[purpose]}#token={token}"


@dataclass(frozen=True)
class _Recipient:
    """An account a link may be mailed to."""

    id: UUID
    invitation_pending: bool
    email_verified: bool


@dataclass(frozen=True)
class _RequestCounts:
    by_email: int
    by_ip: int


@dataclass(frozen=True)
class LinkToSend:
    """A live link as its mail needs it."""

    id: UUID
    purpose: LinkPurpose
    email: str
    name: str


async def _create(conn: Connection, secret: bytes, user_id: UUID, purpose: LinkPurpose) -> UUID:
    """Store a new link, replacing earlier ones of its purpose; its id."""
    await execute(conn, Q.drop_links, {"user_id": user_id, "purpose": purpose})
    link_id = uuid.uuid4()
    await execute(
        conn,
        Q.create_link,
        {
            "id": link_id,
            "user_id": user_id,
            "purpose": purpose,
            "token_hash": _token_hash(link_secret(secret, link_id)),
            "ttl_seconds": LINK_TTL_SECONDS[purpose],
        },
    )
    return link_id


async def _issue(conn: Connection, secret: bytes, user_id: UUID, purpose: LinkPurpose) -> None:
    """Store a new link and queue its mail."""
    link_id = await _create(conn, secret, user_id, purpose)
    await defer(conn, SEND_LINK_TASK, link_id=str(link_id))


async def _request(conn: Connection, purpose: LinkPurpose, email: str, client_ip: str) -> None:
    """Take a request for a link by address: counted, limited, answered by a job.

    The request does the same work whether or not the address has an account (the job
    finds out), so neither its answer nor its timing tells. ``conn`` is in autocommit
    mode, so a refused request counts too.
    """
    params = {"email": email, "client_ip": client_ip}
    request_id = await fetch_value(conn, int, Q.record_link_request, params)
    counts = await fetch_one(
        conn,
        _RequestCounts,
        Q.recent_link_requests,
        {**params, "window_seconds": REQUEST_WINDOW_SECONDS},
    )
    if counts.by_email > MAX_REQUESTS_PER_EMAIL or counts.by_ip > MAX_REQUESTS_PER_IP:
        raise RateLimited(
            "Too many requests for a link. Try again in an hour.",
            retry_after=REQUEST_WINDOW_SECONDS,
        )
    await execute(conn, Q.forget_old_link_requests)
    await defer(conn, ANSWER_REQUEST_TASK, request_id=request_id, purpose=purpose)


async def answer_request(
    conn: Connection, secret: bytes, request_id: int, purpose: LinkPurpose
) -> UUID | None:
    """For the job that answers a request: the new link to mail, or ``None`` when the
    address has no account the link is for (then nobody hears anything)."""
    recipient = await fetch_optional(
        conn, _Recipient, Q.link_recipient_for_request, {"request_id": request_id}
    )
    if recipient is None:
        return None
    # An invited person confirms their address by accepting the invitation.
    if purpose == "verify" and (recipient.email_verified or recipient.invitation_pending):
        return None
    return await _create(conn, secret, recipient.id, purpose)


async def _use(conn: Connection, token: str, purpose: LinkPurpose) -> UUID:
    """Spend a link: the account it was for; ``Conflict`` when it is unknown, used or old."""
    user_id = await fetch_optional_value(
        conn, UUID, Q.use_link, {"token_hash": _token_hash(token), "purpose": purpose}
    )
    if user_id is None:
        raise Conflict(LINK_EXPIRED, code="link_expired", field="token")
    return user_id


async def request_password_reset(conn: Connection, *, email: str, client_ip: str) -> None:
    """Mail a reset link to ``email`` if an account uses it; say nothing either way.

    ``conn`` must be in autocommit mode (the request is counted even when refused).
    """
    await _request(conn, "reset", email, client_ip)


async def reset_password(conn: Connection, *, token: str, password: str) -> None:
    """Set a new password with a reset link, and sign the account out everywhere.

    Its sessions end, its access tokens are revoked and its other links stop working:
    a reset is how someone takes back an account another person may hold.
    """
    check_password(password)
    # The link before hashing: a made-up one costs no password hash.
    user_id = await _use(conn, token, "reset")
    password_hash = await users.hash_password(password)
    await execute(
        conn,
        Q.set_password,
        {"user_id": user_id, "password_hash": password_hash, "proves_address": True},
    )
    await users.end_sessions(conn, user_id)
    await revoke_all_tokens(conn, user_id)
    await execute(conn, Q.drop_links, {"user_id": user_id, "purpose": None})


async def invite(
    conn: Connection,
    secret: bytes,
    *,
    email: str,
    name: str,
    role: Role,
    internal_domains: Collection[str],
) -> User:
    """Create an account without a password and mail its owner a link to choose one."""
    user = await users.create_user(
        conn,
        email=email,
        name=name,
        role=role,
        password=None,
        internal_domains=internal_domains,
        email_verified=False,
    )
    await _issue(conn, secret, user.id, "invite")
    return user


async def resend_invitation(conn: Connection, secret: bytes, user_id: UUID) -> None:
    """Mail an invited person a new link (the earlier one stops working)."""
    # Locked: an invitation accepted meanwhile waits for this, or this sees it accepted.
    recipient = await fetch_optional(conn, _Recipient, Q.link_recipient, {"user_id": user_id})
    if recipient is None:
        raise NotFound("No such user.", code="user_not_found")
    if not recipient.invitation_pending:
        raise Conflict(
            "This person has chosen a password already; they can reset it themselves.",
            code="invitation_accepted",
        )
    await _issue(conn, secret, user_id, "invite")


async def accept_invitation(conn: Connection, *, token: str, password: str) -> Actor:
    """Choose a password with an invitation link: the account, ready to sign in.

    Only an account without a password accepts one: an invitation link never replaces a
    password chosen since (that takes a reset link, or the current password).
    """
    check_password(password)
    # The link before hashing: a made-up one costs no password hash.
    user_id = await _use(conn, token, "invite")
    password_hash = await users.hash_password(password)
    actor = await fetch_optional(
        conn, Actor, Q.set_first_password, {"user_id": user_id, "password_hash": password_hash}
    )
    if actor is None:
        raise Conflict(LINK_EXPIRED, code="link_expired", field="token")
    await execute(conn, Q.drop_links, {"user_id": user_id, "purpose": None})
    return actor


async def sign_up_to_confirm(
    conn: Connection,
    secret: bytes,
    *,
    email: str,
    name: str,
    password: str,
    internal_domains: Collection[str],
) -> str:
    """A sign-up that must confirm its address: the address, normalised.

    A new address gets an unconfirmed account and the link that confirms it. An address
    that has an account already gets no second one: its owner is mailed that someone
    tried to sign up with it, and how to sign in, at most once every
    ``SIGNUP_NOTICE_INTERVAL_SECONDS``. Either way the caller answers the same, after the
    same work (the password is checked and hashed, a mail queued), so sign-up tells nobody
    which addresses have accounts.
    """
    address = users.checked_email(email, internal_domains)
    try:
        user = await users.create_user(
            conn,
            email=address,
            name=name,
            role="user",
            password=password,
            internal_domains=internal_domains,
            email_verified=False,
        )
    except Conflict as exc:
        if exc.code != "email_taken":
            raise
        owner = await users.get_user_by_email(conn, address)
        due = await fetch_optional_value(
            conn,
            UUID,
            Q.claim_signup_notice,
            {"user_id": owner.id, "interval_seconds": SIGNUP_NOTICE_INTERVAL_SECONDS},
        )
        if due is not None:
            await defer(conn, SIGNUP_NOTICE_TASK, user_id=str(owner.id))
        return address
    await _issue(conn, secret, user.id, "verify")
    return user.email


@dataclass(frozen=True)
class NoticeRecipient:
    """Someone with an account, to be told that their address was used to sign up."""

    email: str
    name: str


async def signup_notice_recipient(conn: Connection, user_id: UUID) -> NoticeRecipient | None:
    """Who to tell of a sign-up with their address, or ``None`` if they cannot sign in."""
    return await fetch_optional(conn, NoticeRecipient, Q.notice_recipient, {"user_id": user_id})


def signup_notice_mail(settings: Settings, recipient: NoticeRecipient) -> EmailMessage:
    """The mail telling an account's owner that someone signed up with their address."""
    body = render(
        "signup_notice",
        person=recipient.name,
        site=settings.public_url,
        sign_in=f"{settings.public_url}/login",
        forgot=f"{settings.public_url}/forgot-password",
    )
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = formataddr((recipient.name, recipient.email))
    message["Subject"] = "You already have a ticketdesk account"
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id(domain_of(settings.mail_from))
    # Not worth an automatic reply either.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body.text)
    message.add_alternative(body.html, subtype="html")
    return message


async def request_verification(conn: Connection, *, email: str, client_ip: str) -> None:
    """Mail a new confirmation link if ``email`` is an unconfirmed account; say nothing
    either way. ``conn`` must be in autocommit mode."""
    await _request(conn, "verify", email, client_ip)


async def verify_email(conn: Connection, *, token: str) -> None:
    """Confirm an address with its link.

    It opens no session: whoever follows the link signs in with the account's password
    afterwards. Someone who signed up with another person's address gains nothing when
    that person confirms it, and loses the account once its owner resets the password.
    """
    user_id = await _use(conn, token, "verify")
    await execute(conn, Q.mark_verified, {"user_id": user_id})


async def link_to_send(conn: Connection, link_id: UUID) -> LinkToSend | None:
    """A link due to be mailed, or ``None`` once it is used, replaced or expired."""
    return await fetch_optional(conn, LinkToSend, Q.link_to_send, {"link_id": link_id})


def link_mail(settings: Settings, link: LinkToSend) -> EmailMessage:
    """The mail that carries ``link`` to its person."""
    url = link_url(settings, link.purpose, link_secret(settings.secret(), link.id))
    body = render(
        TEMPLATES[link.purpose],
        person=link.name,
        url=url,
        valid_for=LINK_TTL_WORDS[link.purpose],
        site=settings.public_url,
    )
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = formataddr((link.name, link.email))
    message["Subject"] = SUBJECTS[link.purpose]
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id(domain_of(settings.mail_from))
    # Not worth an automatic reply: a vacation notice about a reset link helps nobody.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body.text)
    message.add_alternative(body.html, subtype="html")
    return message
