"""Ticket lists: filters, sort keys and keyset cursors (never OFFSET).

A page is read in the order of one index: each sort's columns end in ``id``, so the
keyset is total and the next page starts strictly after the last row of this one.
"""

import base64
import binascii
import json
from datetime import datetime, timedelta
from typing import Any, LiteralString
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb

from ticketdesk.auth.service import Actor
from ticketdesk.db import Connection
from ticketdesk.errors import Forbidden, InvalidInput
from ticketdesk.sql import columns, fetch_all
from ticketdesk.tickets import access
from ticketdesk.tickets.schemas import SortKey, Ticket, TicketFilters, TicketPage
from ticketdesk.tickets.service import summaries

SORT_COLUMNS: dict[str, tuple[LiteralString, ...]] = {
    "created": ("created_at", "id"),
    "updated": ("updated_at", "id"),
    "priority": ("priority_rank", "created_at", "id"),
}


class _Listed(Ticket):
    """A ticket with the rank its priority sorts by, for the cursor."""

    priority_rank: int


def _encode_cursor(sort: str, values: list[Any]) -> str:
    raw = json.dumps([sort, *values], default=str, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> list[Any]:
    bad = InvalidInput("The cursor is not valid for this list.", code="bad_cursor", field="cursor")
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        raise bad from None
    keys = SORT_COLUMNS[sort.lstrip("-")]
    if not isinstance(decoded, list) or decoded[:1] != [sort] or len(decoded) != len(keys) + 1:
        raise bad
    values: list[Any] = []
    for column, value in zip(keys, decoded[1:], strict=True):
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
    if filters.tags:
        add("tags @> %(tags)s::text[]", tags=filters.tags)
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
    if filters.customer_replied is not None:
        if not access.sees_triage(actor):
            raise Forbidden(
                "Only agents and admins may filter by customer replies.",
                code="staff_only",
                field="customer_replied",
            )
        # The partial index tickets_customer_replied_idx serves the true case.
        if filters.customer_replied:
            add("customer_replied_at is not null")
        else:
            add("customer_replied_at is null")
    if filters.q:
        # Title, description and *public* comments only: internal notes are never searched.
        add(
            "(search @@ websearch_to_tsquery('english', %(q)s) or exists ("
            " select 1 from comments c where c.ticket_id = tickets.id and not c.is_internal"
            " and c.search @@ websearch_to_tsquery('english', %(q)s)))",
            q=filters.q,
        )
    return where, params


def listing_query(
    actor: Actor,
    filters: TicketFilters,
    *,
    sort: SortKey,
    cursor: str | None,
    limit: int,
) -> tuple[sql.Composed, dict[str, Any]]:
    """The SELECT of a page of the tickets ``actor`` may see, and its parameters: one row
    more than ``limit``, to tell whether another page follows."""
    where, params = _filter_clauses(actor, filters)
    descending = sort.startswith("-")
    keys = SORT_COLUMNS[sort.lstrip("-")]
    keyset = sql.SQL(", ").join(sql.Identifier(c) for c in keys)
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
    order = sql.SQL(", ").join(sql.Composed([sql.Identifier(c), direction]) for c in keys)
    query = sql.SQL("select {columns} from tickets {where} order by {order} limit {limit}").format(
        columns=columns(_Listed),
        where=sql.SQL("where ") + sql.SQL(" and ").join(where) if where else sql.SQL(""),
        order=order,
        limit=sql.Literal(limit + 1),
    )
    return query, params


async def list_tickets(
    conn: Connection,
    actor: Actor,
    filters: TicketFilters,
    *,
    sort: SortKey,
    cursor: str | None,
    limit: int,
    reopen_window: timedelta,
) -> TicketPage:
    """A page of the tickets ``actor`` may see, in keyset order (no OFFSET); each with the
    statuses ``actor`` may move it to, given the ``reopen_window`` setting."""
    query, params = listing_query(actor, filters, sort=sort, cursor=cursor, limit=limit)
    rows = await fetch_all(conn, _Listed, query, params)
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1].model_dump()
        next_cursor = _encode_cursor(sort, [last[c] for c in SORT_COLUMNS[sort.lstrip("-")]])
    return TicketPage(
        items=await summaries(conn, actor, page, reopen_window=reopen_window),
        next_cursor=next_cursor,
    )
