"""Ticket rules: creating, reading, listing, changing, assigning and closing.

Every change is written together with its event rows, on the caller's connection and
inside the caller's transaction; nothing here commits.
"""

import base64
import binascii
import hashlib
import json
from datetime import datetime
from typing import Any, LiteralString, cast, get_args
from uuid import UUID

import psycopg
import uuid_utils
from psycopg import sql
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from ticketdesk.attachments import service as attachments
from ticketdesk.auth.service import Actor
from ticketdesk.changes import Change, record_change
from ticketdesk.comments import service as comments
from ticketdesk.db import Connection
from ticketdesk.errors import Conflict, Forbidden, InvalidInput, PreconditionFailed
from ticketdesk.github import service as github
from ticketdesk.labels import service as labels
from ticketdesk.sql import load_queries
from ticketdesk.tickets import access
from ticketdesk.tickets.access import get_visible_ticket
from ticketdesk.tickets.schemas import (
    BulkRequest,
    BulkResult,
    SortKey,
    Status,
    Ticket,
    TicketCreate,
    TicketDetail,
    TicketFilters,
    TicketPage,
    TicketSummary,
    TicketUpdate,
)
from ticketdesk.users.schemas import UserRef

Q = load_queries(__package__)

# What staff may move a ticket to, from each status. Reopening (resolved/closed → open)
# is allowed to submitters too; so is accepting a resolution (resolved → closed).
STAFF_TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"in_progress", "closed"}),
    "in_progress": frozenset({"waiting", "resolved", "closed"}),
    "waiting": frozenset({"in_progress", "resolved", "closed"}),
    "resolved": frozenset({"open", "closed"}),
    "closed": frozenset({"open"}),
}
SUBMITTER_TRANSITIONS: dict[str, frozenset[str]] = {
    "resolved": frozenset({"open", "closed"}),
    "closed": frozenset({"open"}),
}
STAFF_ONLY_FIELDS = ("type", "priority", "tags")
MAX_TAGS = 20


# --- reading -------------------------------------------------------------------------


async def _people(conn: Connection, actor: Actor, ids: set[UUID]) -> dict[UUID, UserRef]:
    cur = await conn.execute(Q.people, {"ids": list(ids)})
    return {
        row["id"]: UserRef(
            id=row["id"],
            name=row["name"],
            role=row["role"],
            # Submitters see names, not other people's addresses.
            email=row["email"] if access.shows_email(actor, row["id"]) else None,
        )
        for row in await cur.fetchall()
    }


async def _summaries(conn: Connection, actor: Actor, tickets: list[Ticket]) -> list[TicketSummary]:
    ids = {t.user_id for t in tickets} | {
        t.assigned_to_user_id for t in tickets if t.assigned_to_user_id
    }
    people = await _people(conn, actor, ids)
    return [
        TicketSummary(
            **t.model_dump(),
            submitter=people[t.user_id],
            assigned_to=people[t.assigned_to_user_id] if t.assigned_to_user_id else None,
        )
        for t in tickets
    ]


async def detail(conn: Connection, actor: Actor, ticket: Ticket) -> TicketDetail:
    """A ticket with its people, conversation and files, as ``actor`` may see them."""
    [summary] = await _summaries(conn, actor, [ticket])
    return TicketDetail(
        **summary.model_dump(),
        comments=await comments.list_comments(conn, actor, ticket),
        attachments=await attachments.list_attachments(conn, ticket.id),
        transitions=allowed_transitions(actor, ticket),
        github=await github.link_state(conn, actor, ticket.id),
    )


async def get_ticket(conn: Connection, actor: Actor, ref: str) -> TicketDetail:
    """One ticket by UUID or number, if ``actor`` may see it."""
    return await detail(conn, actor, await get_visible_ticket(conn, actor, ref))


# --- listing -------------------------------------------------------------------------

_SORT_COLUMNS: dict[str, tuple[LiteralString, ...]] = {
    "created": ("created_at", "id"),
    "updated": ("updated_at", "id"),
    "priority": ("priority_rank", "created_at", "id"),
}
_TICKET_COLUMNS: LiteralString = (
    "id, number, user_id, type, priority, status, title, description, assigned_to_user_id, "
    "github_issue_number, tags, metadata, version, created_at, updated_at, resolved_at, "
    "closed_at, priority_rank"
)


def _encode_cursor(sort: str, values: list[Any]) -> str:
    raw = json.dumps([sort, *values], default=str, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> list[Any]:
    bad = InvalidInput("The cursor is not valid for this list.", code="bad_cursor", field="cursor")
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        raise bad from None
    columns = _SORT_COLUMNS[sort.lstrip("-")]
    if not isinstance(decoded, list) or decoded[:1] != [sort] or len(decoded) != len(columns) + 1:
        raise bad
    values: list[Any] = []
    for column, value in zip(columns, decoded[1:], strict=True):
        try:
            if column == "priority_rank" and type(value) is int and 1 <= value <= 4:
                values.append(value)
            elif column == "id" and isinstance(value, str):
                values.append(UUID(value))
            elif column.endswith("_at") and isinstance(value, str):
                values.append(datetime.fromisoformat(value))
            else:
                raise bad
        except ValueError:
            raise bad from None
    return values


def _filter_clauses(
    actor: Actor, filters: TicketFilters
) -> tuple[list[sql.Composable], dict[str, Any]]:
    where: list[sql.Composable] = []
    params: dict[str, Any] = {}

    def add(clause: LiteralString, **values: Any) -> None:
        where.append(sql.SQL(clause))
        params.update(values)

    if (scope := access.submitter_scope(actor)) is not None:
        add("user_id = %(scope)s", scope=scope)
    if filters.status:
        add("status = any(%(status)s::text[])", status=filters.status)
    if filters.type:
        add("type = any(%(type)s::text[])", type=filters.type)
    if filters.priority:
        add("priority = any(%(priority)s::text[])", priority=filters.priority)
    if filters.assignee == "me":
        add("assigned_to_user_id = %(assignee)s", assignee=actor.id)
    elif filters.assignee == "none":
        add("assigned_to_user_id is null")
    elif filters.assignee is not None:
        try:
            assignee = UUID(filters.assignee)
        except ValueError:
            raise InvalidInput(
                "Use me, none or a user id.", code="bad_assignee", field="assignee"
            ) from None
        add("assigned_to_user_id = %(assignee)s", assignee=assignee)
    if filters.submitter is not None:
        add("user_id = %(submitter)s", submitter=filters.submitter)
    if filters.tag:
        add("tags @> %(tags)s::text[]", tags=filters.tag)
    if filters.metadata is not None:
        add("metadata @> %(metadata)s", metadata=Jsonb(filters.metadata))
    if filters.created_after is not None:
        add("created_at >= %(created_after)s", created_after=filters.created_after)
    if filters.created_before is not None:
        add("created_at < %(created_before)s", created_before=filters.created_before)
    if filters.updated_after is not None:
        add("updated_at >= %(updated_after)s", updated_after=filters.updated_after)
    if filters.updated_before is not None:
        add("updated_at < %(updated_before)s", updated_before=filters.updated_before)
    if filters.q:
        # Title, description and *public* comments only: internal notes are never searched.
        add(
            "(search @@ websearch_to_tsquery('english', %(q)s) or exists ("
            " select 1 from comments c where c.ticket_id = tickets.id and not c.is_internal"
            " and c.search @@ websearch_to_tsquery('english', %(q)s)))",
            q=filters.q,
        )
    return where, params


async def list_tickets(
    conn: Connection,
    actor: Actor,
    filters: TicketFilters,
    *,
    sort: SortKey,
    cursor: str | None,
    limit: int,
) -> TicketPage:
    """A page of the tickets ``actor`` may see, in keyset order (no OFFSET)."""
    where, params = _filter_clauses(actor, filters)
    descending = sort.startswith("-")
    columns = _SORT_COLUMNS[sort.lstrip("-")]
    keyset = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    if cursor is not None:
        values = _decode_cursor(cursor, sort)
        placeholders = sql.SQL(", ").join(sql.Placeholder(f"k{i}") for i in range(len(values)))
        where.append(
            sql.SQL("({}) {} ({})").format(
                keyset, sql.SQL("<" if descending else ">"), placeholders
            )
        )
        params.update({f"k{i}": v for i, v in enumerate(values)})
    direction = sql.SQL(" desc" if descending else " asc")
    order = sql.SQL(", ").join(sql.Composed([sql.Identifier(c), direction]) for c in columns)
    query = sql.SQL("select {columns} from tickets {where} order by {order} limit {limit}").format(
        columns=sql.SQL(_TICKET_COLUMNS),
        where=sql.SQL("where ") + sql.SQL(" and ").join(where) if where else sql.SQL(""),
        order=order,
        limit=sql.Literal(limit + 1),
    )
    cur = await conn.execute(query, params)
    rows = await cur.fetchall()
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = _encode_cursor(sort, [last[c] for c in columns])
    tickets = [Ticket.model_validate(row) for row in page]
    return TicketPage(items=await _summaries(conn, actor, tickets), next_cursor=next_cursor)


# --- creating ------------------------------------------------------------------------


def _request_hash(body: TicketCreate) -> bytes:
    return hashlib.sha256(body.model_dump_json().encode()).digest()


async def _replay(
    conn: Connection, actor: Actor, key: str, body: TicketCreate
) -> TicketDetail | None:
    cur = await conn.execute(Q.idempotency_key, {"user_id": actor.id, "key": key})
    row = await cur.fetchone()
    if row is None:
        return None
    if bytes(row["request_hash"]) != _request_hash(body):
        raise Conflict(
            "This Idempotency-Key was used with a different request body.",
            code="idempotency_key_reused",
            field="Idempotency-Key",
        )
    return await get_ticket(conn, actor, str(row["ticket_id"]))


async def create_ticket(
    conn: Connection, actor: Actor, body: TicketCreate, *, idempotency_key: str | None
) -> tuple[TicketDetail, bool]:
    """Open a ticket; return it and whether it is a replay of an earlier identical request."""
    if body.tags and not actor.is_staff:
        raise Forbidden(
            "Only agents and admins may label tickets.", code="staff_only", field="tags"
        )
    ticket_id = UUID(str(uuid_utils.uuid7()))
    if idempotency_key is not None:
        await conn.execute(Q.expire_idempotency_key, {"user_id": actor.id, "key": idempotency_key})
        if (earlier := await _replay(conn, actor, idempotency_key, body)) is not None:
            return earlier, True
        try:
            async with conn.transaction():
                # Two requests racing with one key: the second waits here for the first.
                await conn.execute(
                    Q.claim_idempotency_key,
                    {
                        "user_id": actor.id,
                        "key": idempotency_key,
                        "request_hash": _request_hash(body),
                        "ticket_id": ticket_id,
                    },
                )
        except psycopg.errors.UniqueViolation:
            earlier = await _replay(conn, actor, idempotency_key, body)
            assert earlier is not None
            return earlier, True
    tags = await labels.canonical_tags(conn, body.tags) if body.tags else []
    cur = conn.cursor(row_factory=class_row(Ticket))
    await cur.execute(
        Q.insert_ticket,
        {
            "id": ticket_id,
            "user_id": actor.id,
            "type": body.type,
            "priority": body.priority,
            "title": body.title,
            "description": body.description,
            "tags": tags,
            "metadata": Jsonb(body.metadata),
        },
    )
    ticket = await cur.fetchone()
    assert ticket is not None
    await record_change(
        conn,
        Change(
            ticket_id=ticket.id,
            kind="created",
            actor_id=actor.id,
            data={"type": ticket.type, "priority": ticket.priority, "title": ticket.title},
        ),
    )
    return await detail(conn, actor, ticket), False


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


def allowed_transitions(actor: Actor, ticket: Ticket) -> list[Status]:
    """The statuses ``actor`` may move ``ticket`` to now, in the order of the flow."""
    allowed = (STAFF_TRANSITIONS if actor.is_staff else SUBMITTER_TRANSITIONS).get(
        ticket.status, frozenset()
    )
    return [status for status in get_args(Status) if status in allowed]


def _check_transition(actor: Actor, ticket: Ticket, new: Status) -> None:
    if new not in allowed_transitions(actor, ticket):
        who = "" if actor.is_staff else " as the submitter"
        raise Conflict(
            f"A ticket cannot go from {ticket.status} to {new}{who}.",
            code="invalid_transition",
            field="status",
        )


async def _save(conn: Connection, actor: Actor, ticket: Ticket, changes: dict[str, Any]) -> Ticket:
    """Write changed fields, bump the version and record an event per change."""
    columns = dict(changes)
    if "status" in changes:
        new = changes["status"]
        if new == "resolved":
            columns["resolved_at"] = sql.SQL("now()")
        elif new == "closed":
            columns["closed_at"] = sql.SQL("now()")
        elif new == "open":
            columns["resolved_at"] = None
            columns["closed_at"] = None
    assignments = [
        sql.SQL("{} = {}").format(
            sql.Identifier(column),
            value if isinstance(value, sql.Composable) else sql.Placeholder(column),
        )
        for column, value in columns.items()
    ]
    params = {
        column: Jsonb(value) if column == "metadata" else value
        for column, value in columns.items()
        if not isinstance(value, sql.Composable)
    }
    query = sql.SQL(
        "update tickets set {assignments}, version = version + 1, updated_at = now() "
        "where id = %(ticket_id)s returning {columns}"
    ).format(
        assignments=sql.SQL(", ").join(assignments),
        columns=sql.SQL(_TICKET_COLUMNS),
    )
    cur = await conn.execute(query, {**params, "ticket_id": ticket.id})
    row = await cur.fetchone()
    assert row is not None
    for field, new in changes.items():
        await record_change(conn, await _change_event(conn, actor, ticket, field, new))
    return Ticket.model_validate(row)


async def _change_event(
    conn: Connection, actor: Actor, ticket: Ticket, field: str, new: Any
) -> Change:
    old = getattr(ticket, field)
    data: dict[str, Any]
    if field == "tags":
        data = {
            "added": sorted(set(new) - set(old)),
            "removed": sorted(set(old) - set(new)),
        }
        kind = "tags_changed"
    elif field == "assigned_to_user_id":
        # Names, so a submitter's timeline can say who took the ticket.
        people = await _people(conn, actor, {i for i in (old, new) if i})
        data = {
            "from": {"id": str(old), "name": people[old].name} if old else None,
            "to": {"id": str(new), "name": people[new].name} if new else None,
        }
        kind = "assigned"
    elif field == "metadata":
        data = {"from": old, "to": new}
        kind = "metadata_changed"
    else:
        data = {"from": old, "to": new}
        kind = f"{field}_changed"
    return Change(ticket_id=ticket.id, kind=kind, actor_id=actor.id, data=data)


async def _apply_update(
    conn: Connection, actor: Actor, ticket: Ticket, body: TicketUpdate
) -> Ticket:
    requested = body.model_dump(exclude_unset=True, exclude_none=True)
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
    changes = {
        field: value for field, value in requested.items() if getattr(ticket, field) != value
    }
    if "status" in changes:
        _check_transition(actor, ticket, changes["status"])
    if not changes:
        return ticket
    return await _save(conn, actor, ticket, changes)


async def update_ticket(
    conn: Connection, actor: Actor, ref: str, body: TicketUpdate, *, if_match: str | None
) -> TicketDetail:
    """Change some of a ticket's fields, following the status rules."""
    ticket = await get_visible_ticket(conn, actor, ref, for_update=True)
    check_version(ticket, if_match)
    return await detail(conn, actor, await _apply_update(conn, actor, ticket, body))


async def apply_outside_change(
    conn: Connection, actor: Actor, ticket_id: UUID, fields: dict[str, Any]
) -> Ticket:
    """Write what an outside system (GitHub) reports, recording events but not asking the
    status flow: the change already happened there."""
    ticket = await get_visible_ticket(conn, actor, str(ticket_id), for_update=True)
    changed = {field: value for field, value in fields.items() if getattr(ticket, field) != value}
    return await _save(conn, actor, ticket, changed) if changed else ticket


async def retag(conn: Connection, actor: Actor, old: str, new: str | None) -> int:
    """Rename label ``old`` to ``new`` on every ticket (or remove it); return how many.

    Each ticket changes as if edited: its version moves and a ``tags_changed`` event is
    recorded, so readers holding an ETag see the change.
    """
    cur = conn.cursor(row_factory=class_row(Ticket))
    await cur.execute(Q.tickets_tagged_for_update, {"tag": old})
    tagged = await cur.fetchall()
    for ticket in tagged:
        tags = sorted({tag for tag in ticket.tags if tag != old} | ({new} if new else set()))
        await _save(conn, actor, ticket, {"tags": tags})
    return len(tagged)


async def _close(conn: Connection, actor: Actor, ticket: Ticket) -> Ticket:
    if ticket.status == "closed":
        raise Conflict("The ticket is already closed.", code="invalid_transition", field="status")
    if not actor.is_staff:
        _check_transition(actor, ticket, "closed")
    return await _save(conn, actor, ticket, {"status": "closed"})


async def close_ticket(
    conn: Connection, actor: Actor, ref: str, *, if_match: str | None
) -> TicketDetail:
    """Close a ticket: staff from any status, the submitter only to accept a resolution."""
    ticket = await get_visible_ticket(conn, actor, ref, for_update=True)
    check_version(ticket, if_match)
    return await detail(conn, actor, await _close(conn, actor, ticket))


async def _assign(
    conn: Connection, actor: Actor, ticket: Ticket, assignee_id: UUID | None
) -> Ticket:
    if not actor.is_staff:
        raise Forbidden("Only agents and admins may assign tickets.", code="staff_only")
    if assignee_id is not None:
        cur = await conn.execute(Q.assignable_agent, {"user_id": assignee_id})
        if await cur.fetchone() is None:
            raise InvalidInput(
                "Tickets can only be assigned to an active agent or admin.",
                code="not_assignable",
                field="assignee_id",
            )
    if ticket.assigned_to_user_id == assignee_id:
        return ticket
    return await _save(conn, actor, ticket, {"assigned_to_user_id": assignee_id})


async def assign_ticket(
    conn: Connection, actor: Actor, ref: str, assignee_id: UUID | None, *, if_match: str | None
) -> TicketDetail:
    """Assign a ticket to an agent, or unassign it (staff)."""
    ticket = await get_visible_ticket(conn, actor, ref, for_update=True)
    check_version(ticket, if_match)
    return await detail(conn, actor, await _assign(conn, actor, ticket, assignee_id))


async def bulk_update(conn: Connection, actor: Actor, request: BulkRequest) -> BulkResult:
    """Apply one action to many tickets; any refusal undoes them all."""
    if not actor.is_staff:
        raise Forbidden("Only agents and admins may act in bulk.", code="staff_only")
    results: list[Ticket] = []
    # Lock in id order so two bulk requests over the same tickets cannot deadlock.
    for ticket_id in sorted(set(request.ticket_ids)):
        ticket = await get_visible_ticket(conn, actor, str(ticket_id), for_update=True)
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
