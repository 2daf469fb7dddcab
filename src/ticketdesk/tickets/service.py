"""Ticket rules: creating, changing, assigning, closing and relabelling tickets.

Every change is announced through ``changes.record_change`` on the caller's connection
and inside the caller's transaction; nothing here commits. Functions return the ticket
itself; the page a reader sees (its conversation, files, GitHub state) is assembled by
``ticketdesk.ticket_detail``, and lists are ``tickets.listing``.
"""

import dataclasses
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast, get_args
from uuid import UUID

import psycopg
import uuid_utils
from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from ticketdesk.auth.service import Actor
from ticketdesk.changes import Change, EventKind, record_change
from ticketdesk.db import Connection
from ticketdesk.errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from ticketdesk.fields import service as fields
from ticketdesk.labels import service as labels
from ticketdesk.labels.schemas import Label, LabelUpdate
from ticketdesk.routing import service as routing
from ticketdesk.routing.schemas import Rule
from ticketdesk.sla import service as sla
from ticketdesk.sql import (
    columns,
    execute,
    fetch_all,
    fetch_one,
    fetch_optional,
    fetch_optional_value,
    fetch_values,
    load_queries,
)
from ticketdesk.teams import service as teams
from ticketdesk.tickets import access
from ticketdesk.tickets.access import get_visible_ticket, with_ticket_columns
from ticketdesk.tickets.schemas import (
    BulkRequest,
    BulkResult,
    OnBehalfOf,
    Status,
    Ticket,
    TicketCreate,
    TicketSummary,
    TicketUpdate,
)
from ticketdesk.users import service as users
from ticketdesk.users.schemas import User, UserRef

Q = load_queries(__package__)
_INSERT = with_ticket_columns(Q.insert_ticket)
_TAGGED_FOR_UPDATE = with_ticket_columns(Q.tickets_tagged_for_update)
_RESOLVED_DUE = with_ticket_columns(Q.resolved_due_for_closing)
_SET_SLA = with_ticket_columns(Q.set_sla)
_SLA_DUE = with_ticket_columns(Q.sla_due_for_check)
# Where tickets without a running SLA clock sort by sla_due: after every due time.
NO_SLA_DUE = datetime(9999, 12, 31, tzinfo=UTC)
# The changes that choose a ticket's SLA policy again.
_SLA_FIELDS = frozenset({"priority", "type", "tags"})
_TEAM_FOR_UPDATE = with_ticket_columns(Q.team_tickets_for_update)
_RESTORE_STAMPS = with_ticket_columns(Q.restore_stamps)
# How many tickets one transaction of a timed job escalates or closes.
TIMED_BATCH = 200

# What staff may move a ticket to, from each status. Reopening (resolved/closed → open)
# is allowed to submitters too; so is accepting a resolution (resolved → closed).
STAFF_TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"in_progress", "waiting", "resolved", "closed"}),
    "in_progress": frozenset({"waiting", "resolved", "closed"}),
    "waiting": frozenset({"in_progress", "resolved", "closed"}),
    "resolved": frozenset({"open", "closed"}),
    "closed": frozenset({"open"}),
}
SUBMITTER_TRANSITIONS: dict[str, frozenset[str]] = {
    "resolved": frozenset({"open", "closed"}),
    "closed": frozenset({"open"}),
}
# Where the submitter's public reply sends their ticket: back to the agents. A closed
# ticket reopens only within the reopen window (``reopen_refusal``).
REPLY_MOVES: dict[str, Status] = {
    "waiting": "in_progress",
    "resolved": "open",
    "closed": "open",
}
# Where a public staff reply sends the ticket when ``tickets.reply_moves_to_waiting`` is on:
# the answer is given, the ticket waits for its submitter.
STAFF_REPLY_MOVES: dict[str, Status] = {"open": "waiting", "in_progress": "waiting"}
STAFF_ONLY_FIELDS = ("type", "priority", "tags", "team_id")
# A change to any of these runs the assignment rules marked to run on updates.
ROUTED_FIELDS = frozenset({"type", "priority", "tags", "metadata"})
# The change recorded for each field whose event is its old and new value.
_FIELD_CHANGES: dict[str, EventKind] = {
    "title": "title_changed",
    "description": "description_changed",
    "type": "type_changed",
    "priority": "priority_changed",
    "status": "status_changed",
    "github_issue_number": "github_issue_number_changed",
}
MAX_TAGS = 20


# --- the people on a ticket ------------------------------------------------------------


async def _people(conn: Connection, actor: Actor, ids: set[UUID]) -> dict[UUID, UserRef]:
    """The people with these ids as ``actor`` may see them, by id."""
    return {
        user.id: UserRef(
            id=user.id,
            name=user.name,
            role=user.role,
            # Submitters see names, not other people's addresses.
            email=user.email if access.shows_email(actor, user.id) else None,
        )
        for user in await users.users_by_id(conn, ids)
    }


async def summaries(
    conn: Connection, actor: Actor, tickets: Sequence[Ticket], *, reopen_window: timedelta
) -> list[TicketSummary]:
    """``tickets`` with their submitter and assignee named, as ``actor`` may see them, and
    the statuses ``actor`` may move each to (``reopen_window``: the setting)."""
    ids = {t.user_id for t in tickets} | {
        t.assigned_to_user_id for t in tickets if t.assigned_to_user_id
    }
    named = await _people(conn, actor, ids)
    triage = access.sees_triage(actor)
    values = await fields.values_for(
        conn, [t.id for t in tickets], staff=access.sees_internal(actor)
    )
    team_names = (
        await teams.team_refs(conn, {t.team_id for t in tickets if t.team_id}) if triage else {}
    )
    return [
        TicketSummary(
            **t.model_dump(exclude={"customer_replied_at", "sla_state", "sla_due_at", "team_id"}),
            customer_replied_at=t.customer_replied_at if triage else None,
            sla_state=t.sla_state if triage else None,
            sla_due_at=t.sla_due_at if triage else None,
            team_id=t.team_id if triage else None,
            team=team_names.get(t.team_id) if triage and t.team_id else None,
            submitter=named[t.user_id],
            assigned_to=named[t.assigned_to_user_id] if t.assigned_to_user_id else None,
            transitions=allowed_transitions(actor, t, reopen_window=reopen_window),
            custom_fields=values.get(t.id, {}),
        )
        for t in tickets
    ]


# --- creating ------------------------------------------------------------------------

# Creates the account of a new customer and mails them an invitation (``auth.links.invite``,
# bound to the server's key and settings by the route): their address, their name.
Invite = Callable[[str, str], Awaitable[User]]


class _IdempotencyKey(BaseModel):
    request_hash: bytes
    ticket_id: UUID


def _request_hash(body: TicketCreate) -> bytes:
    return hashlib.sha256(body.model_dump_json().encode()).digest()


async def _replay(conn: Connection, actor: Actor, key: str, body: TicketCreate) -> Ticket | None:
    claimed = await fetch_optional(
        conn, _IdempotencyKey, Q.idempotency_key, {"user_id": actor.id, "key": key}
    )
    if claimed is None:
        return None
    if claimed.request_hash != _request_hash(body):
        raise Conflict(
            "This Idempotency-Key was used with a different request body.",
            code="idempotency_key_reused",
            field="Idempotency-Key",
        )
    return await get_visible_ticket(conn, actor, str(claimed.ticket_id))


async def create_ticket(
    conn: Connection,
    actor: Actor,
    body: TicketCreate,
    *,
    idempotency_key: str | None,
    admit: Callable[[], Awaitable[None]] | None = None,
    invite: Invite | None = None,
) -> tuple[Ticket, bool]:
    """Open a ticket; return it and whether it is a replay of an earlier identical request.

    ``admit`` runs once it is known that a new ticket is asked for (not a replay), before
    the ticket is written: the rate limit, which a replay must not count. Staff open it for
    a customer with ``body.on_behalf_of``; ``invite`` makes an account for a new address
    (``None`` while this server sends no mail: a new address is refused then)."""
    if body.tags and not actor.is_staff:
        raise Forbidden(
            "Only agents and admins may label tickets.", code="staff_only", field="tags"
        )
    if body.on_behalf_of is not None and not actor.is_staff:
        raise Forbidden(
            "Only agents and admins may open a ticket on someone else's behalf.",
            code="staff_only",
            field="on_behalf_of",
        )
    ticket_id = UUID(str(uuid_utils.uuid7()))
    key = {"user_id": actor.id, "key": idempotency_key}
    if idempotency_key is not None:
        await execute(conn, Q.expire_idempotency_key, key)
        if (earlier := await _replay(conn, actor, idempotency_key, body)) is not None:
            return earlier, True
    if admit is not None:
        await admit()
    if idempotency_key is not None:
        try:
            async with conn.transaction():
                # Two requests racing with one key: the second waits here for the first.
                await execute(
                    conn,
                    Q.claim_idempotency_key,
                    {**key, "request_hash": _request_hash(body), "ticket_id": ticket_id},
                )
        except psycopg.errors.UniqueViolation:
            if (earlier := await _replay(conn, actor, idempotency_key, body)) is None:
                raise
            return earlier, True
    tags = await labels.canonical_tags(conn, body.tags) if body.tags else []
    # Checked before the ticket is written: a refused one takes no number.
    field_values = await fields.check_new(
        conn, body.custom_fields, ticket_type=body.type, staff=access.sees_internal(actor)
    )
    customer = (
        await _customer(conn, body.on_behalf_of, invite) if body.on_behalf_of is not None else None
    )
    ticket = await fetch_one(
        conn,
        Ticket,
        _INSERT,
        {
            "id": ticket_id,
            "user_id": customer.id if customer else actor.id,
            "type": body.type,
            "priority": body.priority,
            "title": body.title,
            "description": body.description,
            "tags": tags,
            "metadata": Jsonb(body.metadata),
        },
    )
    await fields.write_new(conn, ticket.id, field_values)
    await record_change(
        conn,
        Change(
            ticket_id=ticket.id,
            kind="created",
            actor_id=actor.id,
            data={
                "type": ticket.type,
                "priority": ticket.priority,
                "title": ticket.title,
                # Who it was opened for: the actor is the agent who typed it in.
                **(
                    {"on_behalf_of": {"id": str(customer.id), "name": customer.name}}
                    if customer
                    else {}
                ),
            },
        ),
    )
    now = max(datetime.now(UTC), ticket.created_at)
    ticket = await _apply_sla(
        conn, ticket, await sla.target(conn, _sla_facts(ticket), now=now, start=ticket.created_at)
    )
    return await _route(conn, ticket, on_update=False), False


@dataclasses.dataclass(frozen=True)
class ImportedTicket:
    """A ticket from another system, checked by the importer, about to be written."""

    id: UUID
    submitter_id: UUID
    type: str
    priority: str
    status: str
    title: str
    description: str
    assignee_id: UUID | None
    tags: list[str]
    created_at: datetime
    resolved_at: datetime | None


async def insert_imported_tickets(conn: Connection, batch: Sequence[ImportedTicket]) -> None:
    """Write ``batch`` as the tickets stood in the other system (their times, status,
    assignee), in one statement, numbered in the order given. No change is announced, no
    SLA policy or assignment rule applies: the importer records each ticket's one event."""
    finished = [t.resolved_at if t.status in ("resolved", "closed") else None for t in batch]
    await execute(
        conn,
        Q.insert_imported_tickets,
        {
            "id": [t.id for t in batch],
            "user_id": [t.submitter_id for t in batch],
            "type": [t.type for t in batch],
            "priority": [t.priority for t in batch],
            "status": [t.status for t in batch],
            "title": [t.title for t in batch],
            "description": [t.description for t in batch],
            "assigned_to_user_id": [t.assignee_id for t in batch],
            "tags": [Jsonb(t.tags) for t in batch],
            "created_at": [t.created_at for t in batch],
            "updated_at": [f or t.created_at for t, f in zip(batch, finished, strict=True)],
            "resolved_at": finished,
            "closed_at": [
                f if t.status == "closed" else None for t, f in zip(batch, finished, strict=True)
            ],
        },
    )


async def _customer(conn: Connection, wanted: OnBehalfOf, invite: Invite | None) -> User:
    """The account a ticket is opened for: the one named, the one with the address, or a
    new one for the address, invited by mail."""
    if wanted.user_id is not None:
        found = await users.active_person(conn, user_id=wanted.user_id)
        if found is None:
            raise InvalidInput(
                "No active account has this id.",
                code="customer_not_found",
                field="on_behalf_of.user_id",
            )
        return found
    assert wanted.email is not None
    try:
        found = await users.get_user_by_email(conn, wanted.email)
    except NotFound:
        found = None
    if found is not None:
        if await users.active_person(conn, user_id=found.id) is None:
            raise InvalidInput(
                "The account with this address is deactivated.",
                code="customer_inactive",
                field="on_behalf_of.email",
            )
        return found
    if wanted.name is None:
        raise InvalidInput(
            "No account has this address: give the new customer's name to invite them.",
            code="missing_name",
            field="on_behalf_of.name",
        )
    if invite is None:
        raise Conflict(
            "No account has this address, and inviting a new customer needs mail, which "
            "this ticketdesk does not send. Ask an administrator.",
            code="mail_disabled",
            field="on_behalf_of.email",
        )
    try:
        return await invite(wanted.email, wanted.name)
    except (InvalidInput, Conflict) as exc:
        # The address as the invitation read it: not one mail can reach, or (written
        # differently) one an account has after all.
        exc.field = f"on_behalf_of.{exc.field}" if exc.field else "on_behalf_of.email"
        raise


# --- changing ------------------------------------------------------------------------


def check_version(ticket: Ticket, if_match: str | None) -> None:
    """Refuse a write whose ``If-Match`` names another version of the ticket."""
    if if_match is None or if_match.strip() == "*":
        return
    current = etag(ticket)
    # If-Match compares strongly (RFC 9110 §13.1.1): a weak tag never matches.
    sent = {tag.strip() for tag in if_match.split(",")}
    if current not in sent:
        raise PreconditionFailed(
            "The ticket changed since you read it; reload and try again.",
            code="stale_version",
            headers={"ETag": current},
        )


def etag(ticket: Ticket) -> str:
    """The ticket's entity tag: its version."""
    return f'"{ticket.version}"'


def _flow(actor: Actor, ticket: Ticket) -> frozenset[str]:
    """The statuses the status flow lets ``actor`` move ``ticket`` to, window aside."""
    if not actor.is_staff and actor.id != ticket.user_id:
        return frozenset()  # a follower reads it, never moves it
    if ticket.merged_into_id is not None:
        return frozenset()  # closed by its merge until the merge is undone
    return (STAFF_TRANSITIONS if actor.is_staff else SUBMITTER_TRANSITIONS).get(
        ticket.status, frozenset()
    )


def allowed_transitions(actor: Actor, ticket: Ticket, *, reopen_window: timedelta) -> list[Status]:
    """The statuses ``actor`` may move ``ticket`` to now, in the order of the flow: a
    submitter reopens a closed ticket only within ``reopen_window`` of its closing."""
    allowed = _flow(actor, ticket)
    if reopen_refusal(actor, ticket, reopen_window, field="status") is not None:
        allowed -= {"open"}
    return [status for status in get_args(Status) if status in allowed]


def _merged(ticket: Ticket, field: Literal["comment", "status"]) -> Conflict:
    what = "reply on the ticket it was merged into" if field == "comment" else "undo the merge"
    return Conflict(
        f"This ticket was merged into another ticket; {what}.", code="ticket_merged", field=field
    )


def _check_transition(actor: Actor, ticket: Ticket, new: Status) -> None:
    if ticket.merged_into_id is not None:
        raise _merged(ticket, "status")
    if new not in _flow(actor, ticket):
        who = "" if actor.is_staff else " as the submitter"
        raise Conflict(
            f"A ticket cannot go from {ticket.status} to {new}{who}.",
            code="invalid_transition",
            field="status",
        )


def _stamps(changes: dict[str, Any]) -> dict[str, sql.Composable]:
    """The columns a status change sets besides the status, as SQL."""
    match changes.get("status"):
        case "resolved":
            return {"resolved_at": sql.SQL("now()")}
        case "closed":
            return {"closed_at": sql.SQL("now()")}
        case "open":
            return {"resolved_at": sql.NULL, "closed_at": sql.NULL}
    return {}


async def _save(
    conn: Connection,
    actor: Actor | None,
    ticket: Ticket,
    changes: dict[str, Any],
    *,
    reason: dict[str, Any] | None = None,
) -> Ticket:
    """Write changed fields, bump the version and announce each change, as ``actor`` (or
    as the system, with ``None``; ``reason``: added to each change's data, saying why).

    The one UPDATE of a ticket's fields: every change to them comes through here.
    """
    params = {
        column: Jsonb(value) if column == "metadata" else value for column, value in changes.items()
    }
    assignments: list[sql.Composable] = [
        *(
            sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column))
            for column in params
        ),
        *(
            sql.SQL("{} = {}").format(sql.Identifier(column), value)
            for column, value in _stamps(changes).items()
        ),
    ]
    # No fields of its own changed (only custom fields): the version still moves.
    assignments.append(sql.SQL("version = version + 1, updated_at = now()"))
    query = sql.SQL(
        "update tickets set {assignments} where id = %(ticket_id)s returning {ticket_columns}"
    ).format(assignments=sql.SQL(", ").join(assignments), ticket_columns=columns(Ticket))
    saved = await fetch_one(conn, Ticket, query, {**params, "ticket_id": ticket.id})
    for field, new in changes.items():
        change = await _change_event(conn, actor, ticket, field, new)
        if reason:
            change = dataclasses.replace(change, data={**change.data, **reason})
        await record_change(conn, change)
    now = datetime.now(UTC)
    if "status" in changes:
        saved = await _apply_sla(
            conn,
            saved,
            await sla.status_changed(conn, saved.id, old=ticket.status, new=saved.status, now=now),
        )
    if changes.keys() & _SLA_FIELDS:
        replied_at = await fetch_optional_value(
            conn, datetime, Q.first_staff_reply, {"ticket_id": saved.id}
        )
        saved = await _apply_sla(
            conn,
            saved,
            await sla.target(conn, _sla_facts(saved), now=now, staff_replied_at=replied_at),
        )
    return saved


async def _change_event(
    conn: Connection, actor: Actor | None, ticket: Ticket, field: str, new: Any
) -> Change:
    old = getattr(ticket, field)
    data: dict[str, Any]
    kind: EventKind
    if field == "tags":
        data = {
            "added": sorted(set(new) - set(old)),
            "removed": sorted(set(old) - set(new)),
        }
        kind = "tags_changed"
    elif field == "assigned_to_user_id":
        # Names, so the timeline can say who took the ticket.
        named = {u.id: u.name for u in await users.users_by_id(conn, {i for i in (old, new) if i})}
        data = {
            "from": {"id": str(old), "name": named[old]} if old else None,
            "to": {"id": str(new), "name": named[new]} if new else None,
        }
        kind = "assigned"
    elif field == "team_id":
        named_teams = await teams.team_refs(conn, {i for i in (old, new) if i})
        data = {
            "from": {"id": str(old), "name": named_teams[old].name} if old else None,
            "to": {"id": str(new), "name": named_teams[new].name} if new else None,
        }
        kind = "team_changed"
    elif field == "metadata":
        data = {"from": old, "to": new}
        kind = "metadata_changed"
    else:
        data = {"from": old, "to": new}
        kind = _FIELD_CHANGES[field]
    return Change(ticket_id=ticket.id, kind=kind, actor_id=actor.id if actor else None, data=data)


async def _apply_update(
    conn: Connection, actor: Actor, ticket: Ticket, body: TicketUpdate
) -> Ticket:
    requested = body.model_dump(exclude_unset=True, exclude_none=True, exclude={"custom_fields"})
    if body.custom_fields:
        requested["custom_fields"] = body.custom_fields
    if "team_id" in body.model_fields_set:
        # null takes the ticket off its team; absent leaves it.
        requested["team_id"] = body.team_id
    if not actor.is_staff:
        for field in STAFF_ONLY_FIELDS:
            if field in requested:
                raise Forbidden(
                    f"Only agents and admins may change {field}.", code="staff_only", field=field
                )
        if ticket.status == "closed" and requested.keys() - {"status"}:
            raise Conflict(
                "A closed ticket cannot be edited; reopen it first.", code="ticket_closed"
            )
    if "tags" in requested:
        requested["tags"] = await labels.canonical_tags(conn, requested["tags"])
    field_values = requested.pop("custom_fields", {})
    changes = {
        field: value for field, value in requested.items() if getattr(ticket, field) != value
    }
    if "status" in changes:
        _check_transition(actor, ticket, changes["status"])
    field_changes = (
        await fields.changes_for(
            conn,
            ticket.id,
            field_values,
            ticket_type=changes.get("type", ticket.type),
            staff=access.sees_internal(actor),
        )
        if field_values
        else []
    )
    if changes.get("team_id") is not None:
        await _check_team(conn, changes["team_id"], field="team_id")
    if not changes and not field_changes:
        return ticket
    # First, so that whoever hears of the other changes reads the new values.
    await fields.save_changes(conn, actor.id, ticket.id, field_changes)
    saved = await _save(conn, actor, ticket, changes)
    if changes.keys() & ROUTED_FIELDS:
        saved = await _route(conn, saved, on_update=True)
    return saved


async def update_ticket(
    conn: Connection,
    actor: Actor,
    ref: str,
    body: TicketUpdate,
    *,
    if_match: str | None,
    reopen_window: timedelta,
) -> Ticket:
    """Change some of a ticket's fields, following the status rules; ``reopen_window`` is
    how long after closing its submitter may still reopen it."""
    ticket = await get_visible_ticket(conn, actor, ref, for_update=True)
    check_version(ticket, if_match)
    if body.status == "open" and (
        refusal := reopen_refusal(actor, ticket, reopen_window, field="status")
    ):
        raise refusal
    return await _apply_update(conn, actor, ticket, body)


async def apply_outside_change(
    conn: Connection, actor: Actor, ticket_id: UUID, fields: dict[str, Any]
) -> Ticket:
    """Write what an outside system (GitHub) reports, recording events but not asking the
    status flow: the change already happened there."""
    ticket = await get_visible_ticket(conn, actor, str(ticket_id), for_update=True)
    changed = {field: value for field, value in fields.items() if getattr(ticket, field) != value}
    return await _save(conn, actor, ticket, changed) if changed else ticket


async def touch(conn: Connection, ticket_id: UUID) -> None:
    """Mark a ticket updated after a change to its conversation or files."""
    await execute(conn, Q.touch_ticket, {"ticket_id": ticket_id})


def _is_customer(actor: Actor) -> bool:
    # The submitter, or someone following their ticket (``tickets.followers``): their
    # replies are the customer's side of the conversation. Staff who opened a ticket
    # themselves answer and reopen it like any agent.
    return not actor.is_staff


def reopen_refusal(
    actor: Actor, ticket: Ticket, reopen_window: timedelta, *, field: Literal["comment", "status"]
) -> Conflict | None:
    """Why ``actor`` may not reopen ``ticket`` now, by a reply (``field="comment"``) or a
    status change (``"status"``), or None: the submitter reopens a closed ticket only if it
    was closed at most ``reopen_window`` ago (never, with a window of zero)."""
    if not _is_customer(actor) or ticket.status != "closed":
        return None
    closed_at = ticket.closed_at
    if (
        reopen_window > timedelta(0)
        and closed_at is not None
        and datetime.now(UTC) - closed_at <= reopen_window
    ):
        return None
    if days := reopen_window.days:
        why = f"This ticket was closed more than {days} day{'s' if days != 1 else ''} ago"
    else:
        why = "This ticket is closed"
    what = "a reply no longer reopens it" if field == "comment" else "it can no longer be reopened"
    return Conflict(
        f"{why} and {what}. Please open a new ticket instead.",
        code="reopen_window_passed",
        field=field,
    )


def reply_refusal(actor: Actor, ticket: Ticket, reopen_window: timedelta) -> Conflict | None:
    """Why ``actor`` may not reply publicly on ``ticket`` now, or None: a merged duplicate
    takes no replies (they go to its main ticket), and ``reopen_refusal``."""
    if ticket.merged_into_id is not None:
        return _merged(ticket, "comment")
    return reopen_refusal(actor, ticket, reopen_window, field="comment")


async def take_public_reply(
    conn: Connection,
    actor: Actor,
    ticket: Ticket,
    *,
    reopen_window: timedelta,
    staff_reply_waits: bool = False,
) -> None:
    """Move ``ticket`` for a public reply about to be added to it.

    The submitter's reply sends it back to the agents (``REPLY_MOVES``, recorded as a
    status change by the submitter) and marks it as awaiting an answer; a closed ticket
    reopens only within ``reopen_window``, after that the reply is refused. A staff reply
    is that answer and clears the mark; with ``staff_reply_waits`` (the setting
    ``tickets.reply_moves_to_waiting``) it also sets an open or in-progress ticket waiting
    for its submitter (``STAFF_REPLY_MOVES``, a status change by the staff member).
    ``ticket`` must be locked by the caller.
    """
    if (refusal := reply_refusal(actor, ticket, reopen_window)) is not None:
        raise refusal
    from_submitter = _is_customer(actor)
    if from_submitter:
        move = REPLY_MOVES.get(ticket.status)
    else:
        move = STAFF_REPLY_MOVES.get(ticket.status) if staff_reply_waits else None
    if move is not None:
        await _save(conn, actor, ticket, {"status": move})
    await execute(
        conn, Q.note_public_reply, {"ticket_id": ticket.id, "from_submitter": from_submitter}
    )
    if actor.is_staff:
        await _apply_sla(
            conn,
            ticket,
            await sla.first_response(conn, ticket.id, status=ticket.status, now=datetime.now(UTC)),
        )


async def _close(conn: Connection, actor: Actor, ticket: Ticket) -> Ticket:
    if ticket.status == "closed":
        raise Conflict("The ticket is already closed.", code="invalid_transition", field="status")
    if not actor.is_staff:
        _check_transition(actor, ticket, "closed")
    return await _save(conn, actor, ticket, {"status": "closed"})


async def close_ticket(conn: Connection, actor: Actor, ref: str, *, if_match: str | None) -> Ticket:
    """Close a ticket: staff from any status, the submitter only to accept a resolution."""
    ticket = await get_visible_ticket(conn, actor, ref, for_update=True)
    check_version(ticket, if_match)
    return await _close(conn, actor, ticket)


async def _check_team(conn: Connection, team_id: UUID, *, field: str) -> None:
    if not await teams.hold_team(conn, team_id):
        raise InvalidInput("No such team.", code="unknown_team", field=field)


async def _assign(
    conn: Connection,
    actor: Actor,
    ticket: Ticket,
    assignee_id: UUID | None,
    *,
    team: tuple[UUID | None] | None = None,
) -> Ticket:
    """Assign ``ticket`` to ``assignee_id``, and to the team in ``team`` when given."""
    if not actor.is_staff:
        raise Forbidden("Only agents and admins may assign tickets.", code="staff_only")
    if assignee_id is not None and not await users.is_assignable(conn, assignee_id):
        raise InvalidInput(
            "Tickets can only be assigned to an active agent or admin.",
            code="not_assignable",
            field="assignee_id",
        )
    changes: dict[str, Any] = {}
    if ticket.assigned_to_user_id != assignee_id:
        changes["assigned_to_user_id"] = assignee_id
    if team is not None and ticket.team_id != team[0]:
        if team[0] is not None:
            await _check_team(conn, team[0], field="team_id")
        changes["team_id"] = team[0]
    if not changes:
        return ticket
    return await _save(conn, actor, ticket, changes)


async def assign_ticket(
    conn: Connection,
    actor: Actor,
    ref: str,
    assignee_id: UUID | None,
    *,
    team: tuple[UUID | None] | None = None,
    if_match: str | None,
) -> Ticket:
    """Assign a ticket to an agent, or unassign it, and to the team in ``team`` (a team's
    id or None for no team) when given (staff)."""
    ticket = await get_visible_ticket(conn, actor, ref, for_update=True)
    check_version(ticket, if_match)
    return await _assign(conn, actor, ticket, assignee_id, team=team)


# --- assignment rules and teams ------------------------------------------------------------


async def _route(conn: Connection, ticket: Ticket, *, on_update: bool) -> Ticket:
    """Run the assignment rules on ``ticket`` (locked or just made by the caller): every
    enabled rule that matches fires, in order, each seeing what those before it did, until
    one that says ``stop_processing``; on an update, only the rules marked ``on_update``."""
    rules = await routing.rules_to_run(conn, on_update=on_update)
    if not rules:
        return ticket
    [submitter] = await users.users_by_id(conn, [ticket.user_id])
    for rule in rules:
        facts = routing.TicketFacts(
            type=ticket.type,
            priority=ticket.priority,
            tags=ticket.tags,
            metadata=ticket.metadata,
            submitter_email=submitter.email,
        )
        if not routing.matches(rule.conditions, facts):
            continue
        ticket = await _apply_rule(conn, ticket, rule)
        if rule.stop_processing:
            break
    return ticket


async def _apply_rule(conn: Connection, ticket: Ticket, rule: Rule) -> Ticket:
    """Do what ``rule`` says to ``ticket``, as the system, and record that it fired."""
    actions = rule.actions
    changes: dict[str, Any] = {}
    unavailable: list[str] = []
    if actions.priority is not None and actions.priority != ticket.priority:
        changes["priority"] = actions.priority
    if actions.add_labels:
        # Labels renamed or deleted since the rule was written are passed over.
        known = await labels.known_tags(conn, actions.add_labels)
        tags = sorted({*ticket.tags, *known})
        if len(tags) > MAX_TAGS or len(known) < len(actions.add_labels):
            unavailable.append("add_labels")
        if len(tags) <= MAX_TAGS and tags != sorted(ticket.tags):
            changes["tags"] = tags
    if actions.team_id is not None and actions.team_id != ticket.team_id:
        changes["team_id"] = actions.team_id
    if actions.assignee_id is not None:
        if not await users.is_assignable(conn, actions.assignee_id):
            unavailable.append("assignee_id")
        elif actions.assignee_id != ticket.assigned_to_user_id:
            changes["assigned_to_user_id"] = actions.assignee_id
    elif actions.round_robin and actions.team_id is not None:
        current = ticket.assigned_to_user_id
        if current is None or not await teams.is_member(conn, actions.team_id, current):
            chosen = await teams.next_in_rotation(conn, actions.team_id)
            if chosen is None:
                unavailable.append("round_robin")
            else:
                changes["assigned_to_user_id"] = chosen
    named = {"id": str(rule.id), "name": rule.name}
    await record_change(
        conn,
        Change(
            ticket_id=ticket.id,
            kind="rule_applied",
            actor_id=None,
            data={"rule": named, **({"unavailable": unavailable} if unavailable else {})},
        ),
    )
    if not changes:
        return ticket
    return await _save(conn, None, ticket, changes, reason={"rule": named})


async def delete_team(conn: Connection, actor: Actor, team_id: UUID) -> None:
    """Delete a team: refused while a rule routes tickets to it; otherwise each of its
    tickets is taken off it as if edited (version moved, a ``team_changed`` event)."""
    # Locked first: no rule can be saved naming the team, and no ticket routed to it,
    # between the check and the deletion.
    await teams.lock_team(conn, team_id)
    await routing.check_team_unused(conn, team_id)
    for ticket in await fetch_all(conn, Ticket, _TEAM_FOR_UPDATE, {"team_id": team_id}):
        await _save(conn, actor, ticket, {"team_id": None})
    await teams.delete_team(conn, team_id)


async def bulk_update(conn: Connection, actor: Actor, request: BulkRequest) -> BulkResult:
    """Apply one action to many tickets; any refusal undoes them all."""
    if not actor.is_staff:
        raise Forbidden("Only agents and admins may act in bulk.", code="staff_only")
    results: list[Ticket] = []
    # Every ticket locked, in id order, before any is changed: two bulk requests over the
    # same tickets cannot deadlock, nor can a bulk request and a single change whose
    # assignment rules lock a team's rotation (tickets are locked before rotations).
    locked = [
        await get_visible_ticket(conn, actor, str(ticket_id), for_update=True)
        for ticket_id in sorted(set(request.ticket_ids))
    ]
    for ticket in locked:
        try:
            results.append(await _bulk_one(conn, actor, ticket, request))
        except (Conflict, InvalidInput, Forbidden) as exc:
            exc.detail = f"Ticket #{ticket.number}: {exc.detail}"
            raise
    return BulkResult(items=results)


async def _bulk_one(conn: Connection, actor: Actor, ticket: Ticket, request: BulkRequest) -> Ticket:
    value = request.value
    match request.action:
        case "assign":
            try:
                assignee = UUID(value) if value else None
            except ValueError:
                raise InvalidInput("Not a user id.", code="bad_assignee", field="value") from None
            return await _assign(conn, actor, ticket, assignee)
        case "close":
            return await _close(conn, actor, ticket)
        case "add_label":
            if not value:
                raise InvalidInput("Name the label to add.", code="missing_value", field="value")
            tags = sorted({*ticket.tags, *await labels.canonical_tags(conn, [value])})
            if len(tags) > MAX_TAGS:
                raise InvalidInput(
                    f"A ticket carries at most {MAX_TAGS} labels.",
                    code="too_many_labels",
                    field="value",
                )
            return await _apply_update(conn, actor, ticket, TicketUpdate(tags=tags))
        case "status" | "priority":
            if not value:
                raise InvalidInput(
                    f"Name the {request.action} to set.", code="missing_value", field="value"
                )
            try:
                update = TicketUpdate.model_validate({request.action: value})
            except ValueError:
                raise InvalidInput(
                    f"Not a valid {request.action}: {value!r}.", code="bad_value", field="value"
                ) from None
            return await _apply_update(conn, actor, ticket, update)
    raise AssertionError(cast(str, request.action))


# --- merged duplicates (``merges``) --------------------------------------------------


async def mark_merged(conn: Connection, actor: Actor, duplicate: Ticket, main: Ticket) -> Ticket:
    """Point ``duplicate`` to ``main`` and close it (recorded as its status change, with
    the main ticket's number); both locked by the caller."""
    await execute(conn, Q.set_merged_into, {"ticket_id": duplicate.id, "merged_into_id": main.id})
    pointed = duplicate.model_copy(update={"merged_into_id": main.id})
    if duplicate.status == "closed":
        return pointed
    return await _save(
        conn, actor, pointed, {"status": "closed"}, reason={"merged_into": main.number}
    )


async def unmark_merged(
    conn: Connection,
    actor: Actor,
    duplicate: Ticket,
    *,
    status: Status,
    resolved_at: datetime | None,
    closed_at: datetime | None,
    customer_replied_at: datetime | None,
) -> Ticket:
    """Undo ``mark_merged``: the duplicate points nowhere and has the status and stamps it
    had before, its customer's unanswered reply included (recorded as a status change);
    locked by the caller."""
    await execute(conn, Q.set_merged_into, {"ticket_id": duplicate.id, "merged_into_id": None})
    ticket = duplicate.model_copy(update={"merged_into_id": None})
    if status != ticket.status:
        ticket = await _save(conn, actor, ticket, {"status": status}, reason={"unmerged": True})
    return await fetch_one(
        conn,
        Ticket,
        _RESTORE_STAMPS,
        {
            "ticket_id": ticket.id,
            "resolved_at": resolved_at,
            "closed_at": closed_at,
            "customer_replied_at": customer_replied_at,
        },
    )


# --- labels, as tickets carry them --------------------------------------------------------


async def _retag(conn: Connection, actor: Actor, old: str, new: str | None) -> None:
    """Rename label ``old`` to ``new`` on every ticket carrying it (or remove it).

    Each ticket changes as if edited: its version moves and a ``tags_changed`` event is
    recorded, so readers holding an ETag see the change.
    """
    for ticket in await fetch_all(conn, Ticket, _TAGGED_FOR_UPDATE, {"tag": old}):
        tags = sorted({tag for tag in ticket.tags if tag != old} | ({new} if new else set()))
        await _save(conn, actor, ticket, {"tags": tags})


async def change_label(conn: Connection, actor: Actor, label_id: UUID, body: LabelUpdate) -> Label:
    """Change a label; a new name is given to every ticket carrying the old one, and to
    the SLA policies narrowed to it (first, so those tickets keep their policy), and to
    the assignment rules naming it."""
    label, old_name = await labels.update_label(conn, label_id, body)
    if label.name != old_name:
        await sla.rename_label(conn, old_name, label.name)
        await _retag(conn, actor, old_name, label.name)
        await routing.relabel(conn, old_name, label.name)
    return label


async def delete_label(conn: Connection, actor: Actor, label_id: UUID) -> None:
    """Delete a label and take it off every ticket (and out of the labels rules add)."""
    name = await labels.delete_label(conn, label_id)
    await _retag(conn, actor, name, None)
    await routing.relabel(conn, name, None)


# --- timed rules ------------------------------------------------------------------------


async def escalate_overdue(conn: Connection, *, priority: str, after_hours: int) -> int:
    """Escalate, once each, up to ``TIMED_BATCH`` tickets of ``priority`` neither resolved
    nor closed ``after_hours`` after they were opened, with no public reply from staff:
    each gets an ``escalated`` change by the system, internal: staff see it, its submitter
    does not, and admins are mailed of it. Return how many; run again while it returns
    ``TIMED_BATCH``. Two runs at once escalate a ticket once (see the query)."""
    escalated = await fetch_values(
        conn,
        UUID,
        Q.claim_escalations,
        {"priority": priority, "after_hours": after_hours, "limit": TIMED_BATCH},
    )
    for ticket_id in sorted(escalated):
        await record_change(
            conn,
            Change(
                ticket_id=ticket_id,
                kind="escalated",
                actor_id=None,
                data={"priority": priority, "after_hours": after_hours},
                # Staff business: on no channel the submitter reads (admins are still
                # mailed: notifications.service lets this internal change through).
                is_internal=True,
            ),
        )
    return len(escalated)


async def close_resolved(conn: Connection, *, days: int) -> int:
    """Close, as the system, up to ``TIMED_BATCH`` tickets resolved more than ``days`` days
    ago with no public reply since; return how many (run again while it returns
    ``TIMED_BATCH``). A public reply, from the submitter or from staff, restarts the clock:
    it counts from the later of the resolution and the last public reply."""
    due = await fetch_all(conn, Ticket, _RESOLVED_DUE, {"days": days, "limit": TIMED_BATCH})
    for ticket in due:
        await _save(conn, None, ticket, {"status": "closed"}, reason={"after_days": days})
    return len(due)


async def check_sla_clocks(conn: Connection, *, now: datetime) -> int:
    """Read the SLA clocks of up to ``TIMED_BATCH`` tickets due for a look at ``now`` (a
    target turning at risk or breached), recording each breach once; return how many
    (run again while it returns ``TIMED_BATCH``). Two runs at once look at a ticket once:
    the query skips what another run holds, and a row it moved on no longer matches."""
    due = await fetch_all(conn, Ticket, _SLA_DUE, {"now": now, "limit": TIMED_BATCH})
    for ticket in due:
        outcome = await sla.check(conn, ticket.id, status=ticket.status, now=now)
        await _apply_sla(conn, ticket, outcome or sla.Outcome())
    return len(due)


# --- SLA clocks, as tickets carry them ------------------------------------------------------


def _sla_facts(ticket: Ticket) -> sla.TicketFacts:
    return sla.TicketFacts(
        ticket_id=ticket.id,
        ticket_type=ticket.type,
        priority=ticket.priority,
        tags=ticket.tags,
        status=ticket.status,
    )


async def _apply_sla(conn: Connection, ticket: Ticket, outcome: sla.Outcome | None) -> Ticket:
    """Write what ``outcome`` says of the ticket's SLA clocks on its row (None: nothing
    changed) and announce each breach, as the system: internal, so staff see it and the
    submitter does not (the assignee, else admins, are still mailed; staff-only webhook
    endpoints hear of it)."""
    if outcome is None:
        return ticket
    saved = await fetch_one(
        conn,
        Ticket,
        _SET_SLA,
        {
            "ticket_id": ticket.id,
            "state": outcome.state,
            "due_at": outcome.due_at,
            "sort_at": outcome.due_at or NO_SLA_DUE,
            "next_check_at": outcome.next_check_at,
        },
    )
    for breach in outcome.breaches:
        await record_change(
            conn,
            Change(
                ticket_id=ticket.id,
                kind="sla_breached",
                actor_id=None,
                data={
                    "target": breach.target,
                    "due_at": breach.due_at.isoformat(),
                    "policy": breach.policy_name,
                },
                is_internal=True,
            ),
        )
    return saved
