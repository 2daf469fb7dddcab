"""Who may see which ticket: the one place every reader goes through.

Staff see every ticket and internal notes; a submitter sees only their own tickets
and never an internal note. A ticket someone may not see is reported as missing, so
ids and numbers cannot be probed. Someone who follows a ticket that is not theirs (the
submitter of a duplicate merged into it, say) may read its public side and reply on it
(``get_readable_ticket``), never change its fields.
"""

import re
from typing import LiteralString
from uuid import UUID

from psycopg import sql

from ticketdesk.auth.service import Actor
from ticketdesk.db import Connection
from ticketdesk.errors import NotFound
from ticketdesk.sql import columns, fetch_one, fetch_optional, load_queries
from ticketdesk.tickets import followers
from ticketdesk.tickets.schemas import Ticket

Q = load_queries(__package__)
_NUMBER = re.compile(r"[0-9]{1,18}")


def with_ticket_columns(query: LiteralString, row: type[Ticket] = Ticket) -> sql.Composed:
    """``query`` with ``{ticket_columns}`` filled in: the fields of ``row``."""
    return sql.SQL(query).format(ticket_columns=columns(row))


_BY_ID = with_ticket_columns(Q.ticket_by_id)
_BY_NUMBER = with_ticket_columns(Q.ticket_by_number)
_LOCK = with_ticket_columns(Q.lock_ticket)


def _not_found(ref: str) -> NotFound:
    return NotFound(f"Ticket {ref} does not exist.", code="ticket_not_found")


def sees_internal(actor: Actor) -> bool:
    """Whether ``actor`` may read internal notes and the events about them."""
    return actor.is_staff


def sees_staff_events(actor: Actor) -> bool:
    """Whether ``actor`` may see the events whose audience is staff (triage, routing, the
    GitHub mirror: ``events.service.audience``)."""
    return actor.is_staff


def sees_triage(actor: Actor) -> bool:
    """Whether ``actor`` may see and filter by triage marks (a customer awaiting an answer)."""
    return actor.is_staff


def sees_presence(actor: Actor) -> bool:
    """Whether ``actor`` may see which staff are on a ticket (live presence)."""
    return actor.is_staff


def sees_github(actor: Actor) -> bool:
    """Whether ``actor`` may see a ticket's GitHub link and how its sync went."""
    return actor.is_staff


def sees_followers(actor: Actor) -> bool:
    """Whether ``actor`` may see who follows a ticket (people and addresses)."""
    return actor.is_staff


def shows_email(actor: Actor, user_id: UUID) -> bool:
    """Whether ``actor`` may see the e-mail address of ``user_id``: staff, or their own."""
    return actor.is_staff or user_id == actor.id


def submitter_scope(actor: Actor) -> UUID | None:
    """The only submitter whose tickets ``actor`` may list, or None for all tickets."""
    return None if actor.is_staff else actor.id


def may_see_submitted_by(actor: Actor, submitter_id: UUID) -> bool:
    """Whether ``actor`` may read a ticket opened by ``submitter_id``."""
    return actor.is_staff or submitter_id == actor.id


def may_see(actor: Actor, ticket: Ticket) -> bool:
    """Whether ``actor`` may read ``ticket``."""
    return may_see_submitted_by(actor, ticket.user_id)


async def _find(conn: Connection, ref: str) -> Ticket | None:
    if _NUMBER.fullmatch(ref):
        ticket = await fetch_optional(conn, Ticket, _BY_NUMBER, {"number": int(ref)})
    else:
        try:
            ticket_id = UUID(ref)
        except ValueError:
            raise _not_found(ref) from None
        ticket = await fetch_optional(conn, Ticket, _BY_ID, {"ticket_id": ticket_id})
    return ticket


async def get_visible_ticket(
    conn: Connection, actor: Actor, ref: str, *, for_update: bool = False
) -> Ticket:
    """The ticket named by its UUID or number, if ``actor`` may see it (and so act on it).

    With ``for_update`` the row is locked until the transaction ends, so concurrent
    changes to one ticket are applied one after the other.
    """
    ticket = await _find(conn, ref)
    if ticket is None or not may_see(actor, ticket):
        raise _not_found(ref)
    if for_update:
        ticket = await lock_visible_ticket(conn, ticket)
    return ticket


async def get_readable_ticket(conn: Connection, actor: Actor, ref: str) -> Ticket:
    """The ticket named by its UUID or number, if ``actor`` may read it (and reply on it):
    one they may see, or one they follow (its public side only: ``sees_internal`` still
    decides notes)."""
    ticket = await _find(conn, ref)
    if ticket is None:
        raise _not_found(ref)
    if not may_see(actor, ticket) and not await followers.follows(conn, actor.id, ticket.id):
        raise _not_found(ref)
    return ticket


def only_reads(actor: Actor, ticket: Ticket) -> bool:
    """Whether ``actor`` reads ``ticket`` as a follower: neither staff nor its submitter,
    so they may reply on it but not change it."""
    return not may_see(actor, ticket)


async def lock_visible_ticket(conn: Connection, ticket: Ticket) -> Ticket:
    """``ticket``, found by ``get_visible_ticket`` in this transaction, read again and
    locked until it ends. Who may see it does not change (its submitter stays), so it is
    not checked again."""
    return await fetch_one(conn, Ticket, _LOCK, {"ticket_id": ticket.id})
