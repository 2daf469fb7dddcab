"""Passwords, sessions, personal access tokens and sign-in limits."""

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from ticketdesk.auth.schemas import NewToken, SignedOutEverywhere, Token, TokenScope
from ticketdesk.db import Connection
from ticketdesk.errors import Forbidden, NotFound, RateLimited, Unauthorized
from ticketdesk.sql import (
    execute,
    fetch_all,
    fetch_one,
    fetch_optional,
    fetch_optional_value,
    fetch_value,
    fetch_values,
    load_queries,
)
from ticketdesk.users import service as users
from ticketdesk.users.passwords import check_password
from ticketdesk.users.schemas import STAFF_ROLES, Role
from ticketdesk.users.service import password_hasher, verify_password

Q = load_queries(__package__)

SESSION_TTL_SECONDS = 14 * 24 * 3600
TOKEN_PREFIX = "tdpat_"  # noqa: S105 (a prefix, not a secret)
FAILURE_WINDOW_SECONDS = 15 * 60
# Per address and client: a guesser is stopped without locking the owner out elsewhere.
MAX_FAILURES_PER_PAIR = 5
MAX_FAILURES_PER_IP = 30
# Per address from anywhere: slows a guesser spread over many clients. A device the
# account signed in from before is not held by it (nor by the two above), so a guesser
# cannot lock the owner out of their own browser: it has a limit of its own.
MAX_FAILURES_PER_EMAIL = 100
MAX_FAILURES_PER_DEVICE = 5
# How long a device cookie is honoured after the sign-in that set it.
DEVICE_TTL_SECONDS = 365 * 24 * 3600

WRONG_CREDENTIALS = "Wrong e-mail address or password."
# Where addresses are confirmed first, an unconfirmed account's right password is answered
# alike (see ``authenticate``): one sentence that helps whoever just signed up.
WRONG_CREDENTIALS_UNCONFIRMED = (
    "Wrong e-mail address or password — or, if you just signed up, confirm your address "
    "first with the link we mailed you."
)

# Verifying against this keeps a sign-in for an unknown e-mail as slow as a wrong password.
_DUMMY_HASH = password_hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class TokenGrant:
    """What the personal access token a request came with allows, and until when."""

    id: UUID
    scope: TokenScope
    expires_at: datetime | None


@dataclass(frozen=True)
class Actor:
    """Who is making a request, and how they proved it: a session or a token."""

    id: UUID
    email: str
    name: str
    role: Role
    session_id: UUID | None = None
    csrf_token: str | None = None
    token: TokenGrant | None = None

    @property
    def is_staff(self) -> bool:
        """Agents and admins: they see every ticket and internal notes."""
        return self.role in STAFF_ROLES


# Who a request's credentials belong to, asked again later (None: no one any more).
Recheck = Callable[[], Awaitable[Actor | None]]


@dataclass(frozen=True)
class NewSession:
    """A session just opened: the cookie value and its CSRF token."""

    token: str
    csrf_token: str


def _session_hash(secret: bytes, token: str) -> bytes:
    # Keyed, so a copy of the sessions table alone cannot be used to sign in.
    return hmac.new(secret, token.encode(), hashlib.sha256).digest()


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _device_signature(secret: bytes, payload: str, password_hash: str) -> str:
    # The password's hash is signed too (never sent): a new password, as after a reset
    # that takes an account back, ends the trust of every device cookie given before it.
    message = f"device:{payload}:{password_hash}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def device_cookie(
    conn: Connection, secret: bytes, user_id: UUID, presented: str | None
) -> str:
    """The device cookie to set after ``user_id`` signed in or set their password: the
    one ``presented`` while it is theirs and current (the device keeps its identity),
    else a new one.

    OWASP's device cookie: ``<user id>.<random id>.<issued at>.<HMAC of these and the
    account's password hash under the server's key>``; nothing is stored until a sign-in
    from the device fails.
    """
    password_hash = await fetch_optional_value(conn, str, Q.password_hash, {"user_id": user_id})
    if presented is not None and trusted_device(secret, presented, user_id, password_hash):
        return presented
    payload = f"{user_id}.{secrets.token_urlsafe(16)}.{int(time.time())}"
    return f"{payload}.{_device_signature(secret, payload, password_hash or '')}"


def trusted_device(
    secret: bytes, cookie: str, user_id: UUID, password_hash: str | None
) -> str | None:
    """The id of the device ``cookie`` names, if this server set it for ``user_id`` since
    their password was last set and within ``DEVICE_TTL_SECONDS``; otherwise ``None``."""
    if password_hash is None:
        return None
    payload, _, signature = cookie.rpartition(".")
    expected = _device_signature(secret, payload, password_hash)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        return None
    parts = payload.split(".")
    if len(parts) != 3:
        return None
    owner, device, issued = parts
    if owner != str(user_id) or not issued.isdigit():
        return None
    if int(issued) + DEVICE_TTL_SECONDS < time.time():
        return None
    return device


@dataclass(frozen=True)
class FailureCounts:
    """Failed sign-ins within the window: per address and client, per client, per address
    (each without those from trusted devices), and from the attempt's trusted device."""

    by_pair: int
    by_ip: int
    by_email: int
    by_device: int

    def too_many(self, *, trusted_device: bool) -> bool:
        """Whether the counts that hold this attempt are past their limits: its device's
        alone for a trusted device, the others otherwise."""
        if trusted_device:
            return self.by_device > MAX_FAILURES_PER_DEVICE
        return (
            self.by_pair > MAX_FAILURES_PER_PAIR
            or self.by_ip > MAX_FAILURES_PER_IP
            or self.by_email > MAX_FAILURES_PER_EMAIL
        )


@dataclass(frozen=True)
class Account:
    """A ``users`` row as signing in needs it: the person, their hash, and whether they may."""

    id: UUID
    email: str
    name: str
    role: Role
    password_hash: str | None
    is_active: bool
    is_system: bool
    email_verified: bool

    @property
    def may_sign_in(self) -> bool:
        """Active people only; system authors (GitHub) never sign in."""
        return self.is_active and not self.is_system

    @property
    def actor(self) -> Actor:
        """The account as the person making requests."""
        return Actor(id=self.id, email=self.email, name=self.name, role=self.role)


async def authenticate(
    conn: Connection,
    secret: bytes,
    *,
    email: str,
    password: str,
    client_ip: str,
    device: str | None = None,
    verified_only: bool = False,
) -> Actor:
    """Check a password, limiting failed attempts per address and client, or per device.

    ``device``: the device cookie the client presented, if any. One that this account
    was given when it signed in before frees the attempt from the per-address and
    per-client limits: it counts against that device alone (``MAX_FAILURES_PER_DEVICE``).
    ``conn`` must be in autocommit mode: the attempt is stored before the password is
    checked, so parallel guesses count, and a failed request keeps its count.
    ``verified_only``: refuse an account whose address is not confirmed yet exactly as a
    wrong password is refused (same answer, a failed attempt that counts): a sign-up
    with an address that has an account creates nothing, so telling the two apart would
    tell a sign-up followed by a sign-in which addresses have accounts.
    """
    account = await fetch_optional(conn, Account, Q.user_by_email, {"email": email})
    device_id = (
        trusted_device(secret, device, account.id, account.password_hash)
        if device is not None and account is not None
        else None
    )
    params = {"email": email, "client_ip": client_ip, "device": device_id}
    attempt_id = await fetch_value(conn, int, Q.record_attempt, params)
    counts = await fetch_one(
        conn, FailureCounts, Q.recent_failures, {**params, "window_seconds": FAILURE_WINDOW_SECONDS}
    )
    if counts.too_many(trusted_device=device_id is not None):
        raise RateLimited(
            "Too many failed sign-in attempts. Try again in 15 minutes.",
            retry_after=FAILURE_WINDOW_SECONDS,
        )
    stored = account.password_hash if account is not None and account.may_sign_in else None
    # Verify against a dummy hash for unknown accounts, so timing does not tell them apart.
    verified = await verify_password(stored or _DUMMY_HASH, password) and stored is not None
    if not verified or account is None or (verified_only and not account.email_verified):
        raise Unauthorized(
            WRONG_CREDENTIALS_UNCONFIRMED if verified_only else WRONG_CREDENTIALS,
            code="invalid_credentials",
        )
    await execute(conn, Q.forget_failures, {**params, "attempt_id": attempt_id})
    return account.actor


async def change_password(
    conn: Connection,
    secret: bytes,
    actor: Actor,
    *,
    current_password: str,
    new_password: str,
    client_ip: str,
    device: str | None,
) -> None:
    """Change a password, given the current one; the caller's other sessions end and
    their personal access tokens are revoked.

    ``conn`` must be in autocommit mode: a wrong current password counts as a failed
    sign-in, under the same limits.
    """
    check_password(new_password, field="new_password")
    try:
        await authenticate(
            conn,
            secret,
            email=actor.email,
            password=current_password,
            client_ip=client_ip,
            device=device,
        )
    except Unauthorized:
        raise Forbidden(
            "The current password is wrong.", code="wrong_password", field="current_password"
        ) from None
    password_hash = await users.hash_password(new_password)
    async with conn.transaction():
        await execute(
            conn,
            Q.set_password,
            {"user_id": actor.id, "password_hash": password_hash, "proves_address": False},
        )
        await users.end_sessions(conn, actor.id, except_session_id=actor.session_id)
        # A token copied by whoever knew the old password would outlive the change.
        await revoke_all_tokens(conn, actor.id)
        # A reset link asked for before the change would undo it.
        await execute(conn, Q.drop_links, {"user_id": actor.id, "purpose": "reset"})


async def open_session(conn: Connection, secret: bytes, user_id: UUID) -> NewSession:
    """Start a server-side session; the caller sets the cookie."""
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    await execute(
        conn,
        Q.create_session,
        {
            "token_hash": _session_hash(secret, token),
            "user_id": user_id,
            "csrf_token": csrf_token,
            "ttl_seconds": SESSION_TTL_SECONDS,
        },
    )
    return NewSession(token=token, csrf_token=csrf_token)


async def close_session(conn: Connection, session_id: UUID) -> None:
    """End a session."""
    await execute(conn, Q.delete_session, {"session_id": session_id})


async def actor_for_session(conn: Connection, secret: bytes, token: str) -> Actor | None:
    """The person a session cookie belongs to, if it is current."""
    return await fetch_optional(
        conn, Actor, Q.actor_by_session, {"token_hash": _session_hash(secret, token)}
    )


@dataclass(frozen=True)
class TokenUse:
    """A live token's owner, what it allows, and whether its ``last_used_at`` is due for
    an update."""

    id: UUID
    email: str
    name: str
    role: Role
    token_id: UUID
    scope: TokenScope
    expires_at: datetime | None
    stale: bool

    @property
    def actor(self) -> Actor:
        """The token's owner as the person making the request."""
        grant = TokenGrant(id=self.token_id, scope=self.scope, expires_at=self.expires_at)
        return Actor(id=self.id, email=self.email, name=self.name, role=self.role, token=grant)


async def actor_for_token(conn: Connection, token: str) -> TokenUse | None:
    """The person a personal access token belongs to, if it is neither revoked nor expired."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    return await fetch_optional(
        conn, TokenUse, Q.actor_by_token, {"token_hash": _token_hash(token)}
    )


async def touch_token(conn: Connection, token_id: UUID) -> None:
    """Record that a token was used (at most once a minute)."""
    await execute(conn, Q.touch_token, {"token_id": token_id})


def _check_within(parent: TokenGrant, scope: TokenScope, expires_at: datetime | None) -> None:
    """Refuse a token that could do more, or for longer, than the token making it."""
    # Today a read-only token is refused every POST before it gets here; the rule stays
    # with the others so that widening that gate cannot widen what a token may make.
    if parent.scope == "read" and scope != "read":
        raise Forbidden(
            "A read-only token can only make read-only tokens.",
            code="exceeds_parent_token",
            field="scope",
        )
    if parent.expires_at is not None and (expires_at is None or expires_at > parent.expires_at):
        raise Forbidden(
            "A token made with a token that expires must expire no later than it "
            f"({parent.expires_at.isoformat()}).",
            code="exceeds_parent_token",
            field="expires_at",
        )


async def create_token(
    conn: Connection,
    user_id: UUID,
    name: str,
    *,
    scope: TokenScope = "write",
    expires_at: datetime | None = None,
    parent: TokenGrant | None = None,
) -> NewToken:
    """Make a personal access token; its secret is returned once and stored hashed.

    ``parent``: the token the request came with. The new one may do no more than it and
    end no later, and is revoked with it.
    """
    if parent is not None:
        _check_within(parent, scope, expires_at)
        live = await fetch_optional_value(conn, UUID, Q.lock_live_token, {"token_id": parent.id})
        if live is None:  # revoked (or expired) since the request was let in
            raise Unauthorized(
                "The access token is invalid, expired or revoked.", code="invalid_token"
            )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    created = await fetch_one(
        conn,
        Token,
        Q.create_token,
        {
            "user_id": user_id,
            "name": name,
            "token_hash": _token_hash(token),
            "prefix": token[: len(TOKEN_PREFIX) + 4],
            "scope": scope,
            "expires_at": expires_at,
            "parent_id": parent.id if parent is not None else None,
        },
    )
    return NewToken(**created.model_dump(), token=token)


async def list_tokens(conn: Connection, user_id: UUID) -> list[Token]:
    """A user's tokens not revoked (expired ones included), newest first."""
    return await fetch_all(conn, Token, Q.list_tokens, {"user_id": user_id})


async def _revoke_descendants(conn: Connection, token_ids: list[UUID]) -> int:
    """Revoke every token made with one of ``token_ids``, and with those, and so on."""
    revoked = 0
    while token_ids:
        token_ids = await fetch_values(conn, UUID, Q.revoke_children, {"parent_ids": token_ids})
        revoked += len(token_ids)
    return revoked


async def revoke_token(conn: Connection, user_id: UUID, token_id: UUID) -> None:
    """Revoke one of a user's tokens, and every token made with it."""
    revoked = await fetch_values(
        conn, UUID, Q.revoke_token, {"user_id": user_id, "token_id": token_id}
    )
    if not revoked:
        raise NotFound("No such token.", code="token_not_found")
    await _revoke_descendants(conn, revoked)


async def revoke_all_tokens(conn: Connection, user_id: UUID) -> int:
    """Revoke every token of a user; return how many were not yet revoked (expired ones
    included: they are listed until revoked)."""
    revoked = await fetch_values(conn, UUID, Q.revoke_tokens, {"user_id": user_id})
    # A token made meanwhile with one of these, committed while this waited, is seen now.
    return len(revoked) + await _revoke_descendants(conn, revoked)


async def sign_out_everywhere(
    conn: Connection, user_id: UUID, *, revoke_tokens: bool
) -> SignedOutEverywhere:
    """End every session of a user (and, with ``revoke_tokens``, every token)."""
    sessions = await users.end_sessions(conn, user_id)
    tokens = await revoke_all_tokens(conn, user_id) if revoke_tokens else 0
    return SignedOutEverywhere(sessions_ended=sessions, tokens_revoked=tokens)
