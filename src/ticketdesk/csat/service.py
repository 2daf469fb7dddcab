"""Satisfaction ratings: a resolved or closed ticket's submitter says good or bad.

A round starts each time a ticket becomes resolved or closed from an open state
(``on_change``; not a duplicate closed by its merge), and ends when the ticket is
reopened: resolving it again asks again, in a new round, and the earlier round keeps its
rating. A round is rated once and may be changed (rating and comment) for
``CHANGE_WINDOW`` after its first rating, only while it is the ticket's latest round, not
ended, and the ticket is resolved or closed.
Only the submitter rates: in the app, or through the links in the resolution mail.

The mailed links follow ``auth.links``: their token is the round's id with an HMAC of it
under the server's key, so the mail, put together at send time and retried, carries it
without anything secret being stored or queued; a copy of the database follows no link.
Good and Bad share the token, which works once (the round's ``token_used_at``), within
``LINK_TTL``. The token rides in the link's fragment: opening the link fetches the web
app only and records nothing (mail scanners open links); the page then posts the
choice. Its answer holds a comment grant, signed and stateless, that lets the comment be
written for ``COMMENT_GRANT_TTL``.

Each new or changed rating is announced as a ``rated`` change (staff see it on the
timeline; reports count it); the comment is not in it.
"""

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from uuid import UUID

from pydantic import BaseModel

from ticketdesk.auth.service import Actor
from ticketdesk.changes import Change, record_change
from ticketdesk.csat.schemas import (
    LinkCommentRequest,
    LinkRating,
    LinkRatingRequest,
    RatingRequest,
    RatingValue,
    Satisfaction,
)
from ticketdesk.db import Connection
from ticketdesk.errors import Conflict, Forbidden, NotFound
from ticketdesk.sql import execute, fetch_one, fetch_optional, fetch_optional_value, load_queries
from ticketdesk.tickets.access import get_readable_ticket
from ticketdesk.tickets.schemas import Ticket

Q = load_queries(__package__)

CHANGE_WINDOW = timedelta(days=7)
LINK_TTL = timedelta(days=7)
LINK_TTL_WORDS = "7 days"
COMMENT_GRANT_TTL = timedelta(hours=1)
_DONE = ("resolved", "closed")
_DIGITS = re.compile(r"[0-9]{1,12}")
_RATINGS: dict[str, RatingValue] = {"good": "good", "bad": "bad"}

LINK_INVALID = "This rating link is not valid. Rate the ticket on its page instead."
LINK_USED = "This rating link was used already. You can change your rating on the ticket's page."
LINK_EXPIRED = "This rating link has expired. You can rate the ticket on its page."
GRANT_INVALID = "This comment link is not valid. Add your comment on the ticket's page."
GRANT_RATING_CHANGED = "The rating was changed since. Add your comment to it on the ticket's page."
GRANT_EXPIRED = "The time to add a comment here has passed. Add it on the ticket's page."


class _Round(BaseModel):
    id: UUID
    ticket_id: UUID
    user_id: UUID
    rating: RatingValue | None
    comment: str | None
    rated_at: datetime | None
    changed_at: datetime | None
    token_used_at: datetime | None
    token_expires_at: datetime
    reopened_at: datetime | None
    ticket_status: str

    def changeable_until(self) -> datetime | None:
        return self.rated_at + CHANGE_WINDOW if self.rated_at else None


class _TicketInfo(BaseModel):
    number: int
    title: str


def _sign(secret: bytes, message: str) -> str:
    digest = hmac.new(secret, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def link_token(secret: bytes, round_id: UUID) -> str:
    """The token a round's mailed links carry: its id, signed with the server's key."""
    return round_id.hex + _sign(secret, f"csat-link:{round_id}")


def _link_round_id(secret: bytes, token: str) -> UUID:
    """The round a link token names; ``NotFound`` for one this server did not sign."""
    round_hex, signature = token[:32], token[32:]
    try:
        round_id = UUID(hex=round_hex)
    except ValueError:
        raise NotFound(LINK_INVALID, code="rating_link_invalid", field="token") from None
    expected = _sign(secret, f"csat-link:{round_id}")
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise NotFound(LINK_INVALID, code="rating_link_invalid", field="token")
    return round_id


def comment_grant(secret: bytes, round_id: UUID, rating: RatingValue, now: datetime) -> str:
    """A grant to write the comment of ``round_id``'s ``rating`` for an hour from ``now``."""
    expires = int((now + COMMENT_GRANT_TTL).timestamp())
    signature = _sign(secret, f"csat-comment:{round_id}:{rating}:{expires}")
    return f"{round_id.hex}.{rating}.{expires}.{signature}"


def _granted(secret: bytes, grant: str, now: datetime) -> tuple[UUID, RatingValue]:
    """The round and rating a comment grant is for; ``NotFound`` when forged,
    ``Conflict`` when old."""
    invalid = NotFound(GRANT_INVALID, code="comment_grant_invalid", field="grant")
    parts = grant.split(".")
    if len(parts) != 4 or not _DIGITS.fullmatch(parts[2]):
        raise invalid
    round_hex, rating, expires, signature = parts
    granted = _RATINGS.get(rating)
    if granted is None:
        raise invalid
    try:
        round_id = UUID(hex=round_hex)
    except ValueError:
        raise invalid from None
    expected = _sign(secret, f"csat-comment:{round_id}:{rating}:{expires}")
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise invalid
    if int(expires) <= now.timestamp():
        raise Conflict(GRANT_EXPIRED, code="comment_grant_expired", field="grant")
    return round_id, granted


# --- rounds ------------------------------------------------------------------------


async def on_change(conn: Connection, change: Change) -> None:
    """Start a rating round when a ticket becomes resolved or closed from an open state;
    end the ticket's round when it is reopened.

    A duplicate closed by its merge is not asked about: its conversation goes on in the
    main ticket, whose resolution asks."""
    if change.kind != "status_changed":
        return
    done_before = change.data.get("from") in _DONE
    done_now = change.data.get("to") in _DONE
    if done_before and not done_now:
        await execute(conn, Q.end_rounds, {"ticket_id": change.ticket_id})
    if done_before or not done_now or "merged_into" in change.data:
        return
    await execute(
        conn,
        Q.start_round,
        {"ticket_id": change.ticket_id, "ttl_seconds": LINK_TTL.total_seconds()},
    )


async def mailed_round(conn: Connection, ticket_id: UUID) -> UUID | None:
    """The round the resolution mail asks to rate: the ticket's latest, while it is neither
    rated nor ended, the ticket is resolved or closed and the round's links still work;
    else ``None``."""
    return await fetch_optional_value(conn, UUID, Q.link_round, {"ticket_id": ticket_id})


def _refusal(rated: _Round, latest: _Round | None, now: datetime) -> Conflict | None:
    """Why ``rated`` may not be rated now, or ``None``."""
    if (
        latest is None
        or latest.id != rated.id
        or rated.reopened_at is not None
        or rated.ticket_status not in _DONE
    ):
        return Conflict(
            "This ticket is not waiting for a rating: it was reopened, or resolved again "
            "since. Rate it once it is resolved.",
            code="not_rateable",
        )
    until = rated.changeable_until()
    if until is not None and now >= until:
        return Conflict(
            "A rating can be changed for 7 days after it was first given; that time has passed.",
            code="rating_window_passed",
        )
    return None


async def _save(conn: Connection, rated: _Round, rating: RatingValue, comment: str | None) -> None:
    """Store the round's rating and comment; announce a new or changed rating."""
    await execute(conn, Q.save_rating, {"round_id": rated.id, "rating": rating, "comment": comment})
    if rating != rated.rating:
        await record_change(
            conn,
            Change(
                ticket_id=rated.ticket_id,
                kind="rated",
                actor_id=rated.user_id,
                data={"rating": rating, "previous": rated.rating},
            ),
        )


def _view(rated: _Round, can_rate: bool) -> Satisfaction:
    return Satisfaction(
        rating=rated.rating,
        comment=rated.comment,
        rated_at=rated.rated_at,
        changed_at=rated.changed_at,
        changeable_until=rated.changeable_until(),
        can_rate=can_rate,
    )


async def satisfaction(conn: Connection, actor: Actor, ticket: Ticket) -> Satisfaction | None:
    """The ticket's latest round for its page: for staff, and for its submitter (their own);
    ``None`` for anyone else, and before the ticket was first resolved or closed."""
    if not (actor.is_staff or actor.id == ticket.user_id):
        return None
    latest = await fetch_optional(conn, _Round, Q.latest_round_view, {"ticket_id": ticket.id})
    if latest is None:
        return None
    can_rate = actor.id == ticket.user_id and _refusal(latest, latest, datetime.now(UTC)) is None
    return _view(latest, can_rate)


async def rate(conn: Connection, actor: Actor, ref: str, body: RatingRequest) -> Satisfaction:
    """The submitter rates their resolved ticket in the app, or changes the rating."""
    ticket = await get_readable_ticket(conn, actor, ref)
    if actor.id != ticket.user_id:
        raise Forbidden("Only the ticket's submitter rates it.", code="not_submitter")
    latest = await fetch_optional(conn, _Round, Q.latest_round, {"ticket_id": ticket.id})
    now = datetime.now(UTC)
    if latest is None:
        raise Conflict(
            "This ticket is not waiting for a rating: rate it once it is resolved.",
            code="not_rateable",
        )
    refusal = _refusal(latest, latest, now)
    if refusal is not None:
        raise refusal
    await _save(conn, latest, body.rating, body.comment or None)
    saved = await fetch_one(conn, _Round, Q.round_by_id, {"round_id": latest.id})
    return _view(saved, True)


async def rate_by_link(conn: Connection, secret: bytes, body: LinkRatingRequest) -> LinkRating:
    """Rate with a mailed link, without signing in: the link is spent."""
    round_id = _link_round_id(secret, body.token)
    rated = await fetch_optional(conn, _Round, Q.round_by_id, {"round_id": round_id})
    if rated is None:
        raise NotFound(LINK_INVALID, code="rating_link_invalid", field="token")
    now = datetime.now(UTC)
    if rated.token_used_at is not None:
        raise Conflict(LINK_USED, code="rating_link_used", field="token")
    if rated.token_expires_at <= now:
        raise Conflict(LINK_EXPIRED, code="rating_link_expired", field="token")
    latest = await fetch_optional(conn, _Round, Q.latest_round, {"ticket_id": rated.ticket_id})
    refusal = _refusal(rated, latest, now)
    if refusal is not None:
        raise refusal
    await execute(conn, Q.spend_token, {"round_id": rated.id})
    await _save(conn, rated, body.rating, rated.comment)
    ticket = await fetch_one(conn, _TicketInfo, Q.ticket_info, {"ticket_id": rated.ticket_id})
    return LinkRating(
        ticket_number=ticket.number,
        ticket_title=ticket.title,
        rating=body.rating,
        comment=rated.comment,
        comment_grant=comment_grant(secret, rated.id, body.rating, now),
    )


async def comment_by_link(conn: Connection, secret: bytes, body: LinkCommentRequest) -> LinkRating:
    """Write the comment of a rating just made with a mailed link, within the grant's hour,
    unless the rating was changed since (on the ticket's page, where the comment goes then)."""
    now = datetime.now(UTC)
    round_id, granted_rating = _granted(secret, body.grant, now)
    rated = await fetch_optional(conn, _Round, Q.round_by_id, {"round_id": round_id})
    if rated is None or rated.rating is None:
        raise NotFound(GRANT_INVALID, code="comment_grant_invalid", field="grant")
    if rated.rating != granted_rating:
        raise Conflict(GRANT_RATING_CHANGED, code="rating_changed", field="grant")
    latest = await fetch_optional(conn, _Round, Q.latest_round, {"ticket_id": rated.ticket_id})
    refusal = _refusal(rated, latest, now)
    if refusal is not None:
        raise refusal
    await _save(conn, rated, rated.rating, body.comment or None)
    ticket = await fetch_one(conn, _TicketInfo, Q.ticket_info, {"ticket_id": rated.ticket_id})
    return LinkRating(
        ticket_number=ticket.number,
        ticket_title=ticket.title,
        rating=rated.rating,
        comment=body.comment or None,
        comment_grant=body.grant,
    )
