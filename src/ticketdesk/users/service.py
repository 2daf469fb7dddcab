"""Accounts: creating, listing and changing users."""

from collections.abc import Collection
from typing import Any
from uuid import UUID

import anyio
import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email

from ticketdesk.db import Connection, constraint_name
from ticketdesk.errors import Conflict, InvalidInput, NotFound
from ticketdesk.sql import (
    fetch_all,
    fetch_one,
    fetch_optional,
    fetch_value,
    fetch_values,
    load_queries,
)
from ticketdesk.users.passwords import check_password
from ticketdesk.users.schemas import Role, User, UserPage
from ticketdesk.validation import is_hostname

Q = load_queries(__package__)

# argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): ~30 ms a hash,
# so sign-ins cannot be turned into a cheap way to exhaust the CPU.
password_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Hashing runs in threads, at most this many at once, never on the event loop.
_hashing = anyio.CapacityLimiter(2)

GITHUB_SYSTEM_EMAIL = "github@system.ticketdesk.invalid"


async def hash_password(password: str) -> str:
    """An argon2id hash of a password."""
    return await anyio.to_thread.run_sync(password_hasher.hash, password, limiter=_hashing)


async def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches the argon2 hash ``stored``."""

    def verify() -> bool:
        try:
            return password_hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(verify, limiter=_hashing)


def checked_email(address: str, internal_domains: Collection[str]) -> str:
    """``address`` normalised, if mail can reach it: at a public domain, or at one of the
    deployment's ``internal_domains`` (or their subdomains), such as ``corp.local``."""
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        refusal = str(exc)
    local, _, domain = address.rpartition("@")
    try:
        # The same local part at a public domain: is it the domain that is refused?
        local = validate_email(f"{local}@example.com", check_deliverability=False).local_part
    except EmailNotValidError:
        raise InvalidInput(refusal, code="bad_email", field="email") from None
    domain = domain.lower()
    if not is_hostname(domain):
        raise InvalidInput(refusal, code="bad_email", field="email")
    if any(domain == d or domain.endswith(f".{d}") for d in internal_domains):
        return f"{local}@{domain}"
    raise InvalidInput(
        f"{domain} is not a public e-mail domain. Use another address, or ask an admin "
        "to accept it as an internal domain.",
        code="email_domain_not_public",
        field="email",
    )


async def create_user(
    conn: Connection,
    *,
    email: str,
    name: str,
    role: Role,
    password: str | None,
    internal_domains: Collection[str],
    email_verified: bool = True,
) -> User:
    """Create an account; ``Conflict`` when the e-mail address is taken, ``InvalidInput``
    when it is not an address or the password is too easy to guess.

    ``internal_domains``: the deployment's ``internal_email_domains`` setting.
    ``email_verified``: false for an address nobody has proved to be theirs yet (a
    sign-up that must follow a mailed link, an invitation not yet accepted).
    """
    address = checked_email(email, internal_domains)
    if password is not None:
        check_password(password)
    params: dict[str, Any] = {
        "email": address,
        "name": name,
        "role": role,
        "password_hash": await hash_password(password) if password is not None else None,
        "email_verified": email_verified,
    }
    try:
        async with conn.transaction():
            return await fetch_one(conn, User, Q.insert_user, params)
    except psycopg.errors.UniqueViolation as exc:
        if constraint_name(exc) == "users_email_key":
            raise Conflict(
                "An account with this e-mail address exists.", code="email_taken", field="email"
            ) from exc
        raise


async def get_user(conn: Connection, user_id: UUID) -> User:
    """One user by id; ``NotFound`` otherwise."""
    user = await fetch_optional(conn, User, Q.get_user, {"user_id": user_id})
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    return user


async def list_users(
    conn: Connection,
    *,
    role: Role | None,
    after_email: str | None,
    limit: int,
    q: str | None = None,
) -> UserPage:
    """Users ordered by e-mail address, a page at a time; with ``q``, only those whose
    name or address holds it (any case)."""
    rows = await fetch_all(
        conn,
        User,
        Q.list_users,
        {"role": role, "after_email": after_email, "limit": limit + 1, "q": q or None},
    )
    next_cursor = rows[limit - 1].email.lower() if len(rows) > limit else None
    return UserPage(items=rows[:limit], next_cursor=next_cursor)


async def update_user(
    conn: Connection,
    user_id: UUID,
    *,
    name: str | None,
    role: Role | None,
    is_active: bool | None,
    is_away: bool | None = None,
) -> User:
    """Change a user's name, role, access or whether they are away; deactivation ends
    their sessions."""
    user = await fetch_optional(
        conn,
        User,
        Q.update_user,
        {
            "user_id": user_id,
            "name": name,
            "role": role,
            "is_active": is_active,
            "is_away": is_away,
        },
    )
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    if is_active is False:
        await end_sessions(conn, user_id)
    return user


async def end_sessions(
    conn: Connection, user_id: UUID, *, except_session_id: UUID | None = None
) -> int:
    """Sign a user out everywhere (but in ``except_session_id``, when given); return how
    many sessions that had not yet expired ended."""
    return await fetch_value(
        conn, int, Q.end_sessions, {"user_id": user_id, "except_session_id": except_session_id}
    )


async def github_system_user(conn: Connection) -> UUID:
    """The author of comments that arrive from GitHub, created on first use."""
    return await fetch_value(
        conn, UUID, Q.ensure_system_user, {"email": GITHUB_SYSTEM_EMAIL, "name": "GitHub"}
    )


async def any_people(conn: Connection) -> bool:
    """Whether anyone (other than system authors) has an account yet."""
    return await fetch_value(conn, bool, Q.any_people)


async def get_user_by_email(conn: Connection, email: str) -> User:
    """One user by e-mail address; ``NotFound`` otherwise."""
    user = await fetch_optional(conn, User, Q.user_by_email, {"email": email})
    if user is None:
        raise NotFound(f"No user with e-mail address {email}.", code="user_not_found")
    return user


async def active_person(conn: Connection, *, user_id: UUID) -> User | None:
    """The account with this id if a person may act with it (active, not a system
    author such as GitHub's); ``None`` otherwise."""
    return await fetch_optional(conn, User, Q.active_person, {"user_id": user_id})


async def users_by_id(conn: Connection, ids: Collection[UUID]) -> list[User]:
    """The accounts with these ids, in no particular order (unknown ids are left out)."""
    return await fetch_all(conn, User, Q.users_by_id, {"ids": list(ids)})


async def set_away(conn: Connection, user_id: UUID, away: bool) -> User:
    """Mark a person away from their desk, or back."""
    user = await fetch_optional(conn, User, Q.set_away, {"user_id": user_id, "away": away})
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    return user


async def assignable_among(conn: Connection, ids: Collection[UUID]) -> set[UUID]:
    """Those of ``ids`` that tickets may be assigned to: active agents and admins."""
    return set(await fetch_values(conn, UUID, Q.assignable_among, {"ids": list(ids)}))


async def is_assignable(conn: Connection, user_id: UUID) -> bool:
    """Whether tickets may be assigned to ``user_id``: an active agent or admin."""
    return await fetch_value(conn, bool, Q.is_assignable, {"user_id": user_id})


async def staff_by_handles(conn: Connection, handles: Collection[str]) -> list[User]:
    """Active agents and admins named by a handle: the part of their address before the
    @ (every one who has it), or their whole address; ``handles`` in lower case."""
    if not handles:
        return []
    return await fetch_all(conn, User, Q.staff_by_handles, {"handles": list(handles)})
