"""Who follows a ticket: told of its public side besides its submitter.

A follower is a person with an account (an agent who follows the ticket, the submitter
of a duplicate merged into it, an account copied on the submitter's mail) or an address
with no account, copied on the submitter's mail. People hear of what the submitter
hears of (``notifications``): public replies and status changes, never internal notes;
addresses hear of public replies only, each mail with a link that removes them. A
submitter follows their own ticket from the start; unfollowing it keeps a muted row,
which stops the mail about it.

A follower who is not staff may read the ticket's public side and reply on it, as its
submitter does (``tickets.access.get_readable_ticket``), but not change its fields or
status, nor add files.
"""

import hashlib
import hmac
from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from ticketdesk.auth.service import Actor
from ticketdesk.db import Connection
from ticketdesk.errors import NotFound
from ticketdesk.sql import (
    execute,
    fetch_all,
    fetch_optional,
    fetch_optional_value,
    fetch_value,
    fetch_values,
    load_queries,
)
from ticketdesk.tickets.schemas import Ticket
from ticketdesk.users.schemas import UserRef

Q = load_queries(__package__, "followers.sql")

Via = Literal["self", "cc", "merge"]


class Follower(BaseModel):
    """Someone told of a ticket's public side besides its submitter (shown to staff)."""

    id: UUID
    user: UserRef | None = Field(description="The person, or null for an address with no account.")
    email: str | None = Field(description="The address with no account, or null for a person.")
    via: Via = Field(
        description="self: followed it themselves; cc: copied on the submitter's mail; "
        "merge: carried over from a duplicate merged into this ticket."
    )
    created_at: datetime


class FollowState(BaseModel):
    """Whether the caller follows the ticket (hears of its public replies and status)."""

    following: bool


class AddressFollower(BaseModel):
    """An address with no account that follows a ticket."""

    id: UUID
    email: str
    ticket_id: UUID


class _Followed(BaseModel):
    id: UUID
    added: bool


async def is_following(conn: Connection, actor: Actor, ticket: Ticket) -> bool:
    """Whether ``actor`` hears of ``ticket``: its submitter unless they muted it, anyone
    else while they follow it."""
    params = {"ticket_id": ticket.id, "user_id": actor.id}
    if actor.id == ticket.user_id:
        return not await fetch_value(conn, bool, Q.is_muted, params)
    return await fetch_value(conn, bool, Q.is_following, params)


async def muted(conn: Connection, ticket_id: UUID, user_id: UUID) -> bool:
    """Whether the submitter ``user_id`` unfollowed their own ticket ``ticket_id``."""
    return await fetch_value(conn, bool, Q.is_muted, {"ticket_id": ticket_id, "user_id": user_id})


async def follows(conn: Connection, user_id: UUID, ticket_id: UUID) -> bool:
    """Whether ``user_id`` has a follower row on ``ticket_id`` (not a muted submitter)."""
    return await fetch_value(
        conn, bool, Q.is_following, {"ticket_id": ticket_id, "user_id": user_id}
    )


async def follow(conn: Connection, actor: Actor, ticket: Ticket) -> FollowState:
    """``actor`` follows ``ticket`` (their own: they hear of it again)."""
    if actor.id == ticket.user_id:
        await execute(conn, Q.unfollow, {"ticket_id": ticket.id, "user_id": actor.id})
    else:
        await add_person(conn, ticket.id, actor.id, via="self")
    return FollowState(following=True)


async def unfollow(conn: Connection, actor: Actor, ticket: Ticket) -> FollowState:
    """``actor`` stops hearing of ``ticket`` (their own: its mail stops)."""
    params = {"ticket_id": ticket.id, "user_id": actor.id}
    if actor.id == ticket.user_id:
        await execute(conn, Q.mute, params)
    else:
        await execute(conn, Q.unfollow, params)
    return FollowState(following=False)


async def add_person(conn: Connection, ticket_id: UUID, user_id: UUID, *, via: Via) -> UUID | None:
    """Make ``user_id`` follow ``ticket_id``; the new row's id, or None if they did already."""
    row = await fetch_optional(
        conn, _Followed, Q.follow, {"ticket_id": ticket_id, "user_id": user_id, "via": via}
    )
    return row.id if row is not None and row.added else None


async def add_address(conn: Connection, ticket_id: UUID, email: str, *, via: Via) -> UUID | None:
    """Make an address with no account follow ``ticket_id``; the new row's id, or None if
    it did already."""
    return await fetch_optional_value(
        conn, UUID, Q.follow_address, {"ticket_id": ticket_id, "email": email.lower(), "via": via}
    )


async def list_followers(conn: Connection, ticket_id: UUID) -> list[Follower]:
    """A ticket's followers, first come first (muted submitters left out)."""
    return await fetch_all(conn, Follower, Q.list_followers, {"ticket_id": ticket_id})


async def user_follower_ids(conn: Connection, ticket_id: UUID) -> list[UUID]:
    """The active people following ``ticket_id``, to be told of it."""
    return await fetch_values(conn, UUID, Q.user_follower_ids, {"ticket_id": ticket_id})


async def address_followers(conn: Connection, ticket_id: UUID) -> list[AddressFollower]:
    """The addresses with no account following ``ticket_id``."""
    rows = await fetch_all(conn, AddressFollower, Q.address_followers_of, {"ticket_id": ticket_id})
    return rows


async def address_follower(conn: Connection, follower_id: UUID) -> AddressFollower | None:
    """An address follower by id, if it still follows."""
    return await fetch_optional(conn, AddressFollower, Q.address_follower, {"id": follower_id})


async def remove_follower(conn: Connection, ticket: Ticket, follower_id: UUID) -> None:
    """Take a follower off ``ticket`` (staff); ``NotFound`` if it is not one of its."""
    removed = await fetch_optional_value(
        conn, UUID, Q.remove_follower, {"id": follower_id, "ticket_id": ticket.id}
    )
    if removed is None:
        raise NotFound(
            f"Follower {follower_id} does not follow this ticket.", code="follower_not_found"
        )


async def copy_followers(conn: Connection, from_id: UUID, to_id: UUID) -> list[UUID]:
    """Make the followers of ``from_id`` follow ``to_id`` too (a merge); the rows added."""
    return await fetch_values(conn, UUID, Q.copy_followers, {"from_id": from_id, "to_id": to_id})


async def remove_rows(conn: Connection, follower_ids: list[UUID]) -> None:
    """Delete follower rows by id (a merge being undone takes back the ones it added)."""
    await execute(conn, Q.remove_rows, {"ids": follower_ids})


# --- an address's one-click way out -------------------------------------------------


def _signature(secret: bytes, follower_id: UUID) -> str:
    digest = hmac.new(secret, f"unfollow:{follower_id.hex}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def unfollow_token(secret: bytes, follower_id: UUID) -> str:
    """A token that removes an address follower, usable without signing in."""
    return f"{follower_id.hex}.{_signature(secret, follower_id)}"


def _read_token(secret: bytes, token: str) -> UUID:
    invalid = NotFound("This unsubscribe link is not valid.", code="bad_unsubscribe_token")
    raw_id, _, signature = token.partition(".")
    try:
        follower_id = UUID(hex=raw_id)
    except ValueError:
        raise invalid from None
    if not hmac.compare_digest(signature.encode(), _signature(secret, follower_id).encode()):
        raise invalid
    return follower_id


def check_unfollow_token(secret: bytes, token: str) -> None:
    """Refuse a token this server did not sign."""
    _read_token(secret, token)


async def unfollow_by_token(conn: Connection, secret: bytes, token: str) -> None:
    """Remove the address follower a signed token names (again: nothing more happens)."""
    await execute(conn, Q.remove_address_follower, {"id": _read_token(secret, token)})
