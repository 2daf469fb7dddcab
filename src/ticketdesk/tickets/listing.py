"""Ticket lists: filters, sort keys and keyset cursors (never OFFSET).

A page is read in the order of one index: each sort's columns end in ``id``, so the
keyset is total and the next page starts strictly after the last row of this one.

Search (``q``) is one GIN lookup on the ticket's search document for the caller's
audience (migration 0017): staff search internal notes too, a submitter never does.
``sort=relevance`` ranks the newest ``RELEVANCE_CANDIDATES`` matches by ``ts_rank``; its
cursor is a keyset over (rank, created_at, id) within them.
"""

import base64
import binascii
import html
import json
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, LiteralString
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from ticketdesk.auth.service import Actor
from ticketdesk.db import Connection
from ticketdesk.errors import Forbidden, InvalidInput
from ticketdesk.sql import columns, fetch_all, load_queries
from ticketdesk.teams import service as teams
from ticketdesk.tickets import access
from ticketdesk.tickets.schemas import SortKey, Ticket, TicketFilters, TicketPage
from ticketdesk.tickets.service import summaries

Q = load_queries(__package__)

SORT_COLUMNS: dict[str, tuple[LiteralString, ...]] = {
    "created": ("created_at", "id"),
    "updated": ("updated_at", "id"),
    "priority": ("priority_rank", "created_at", "id"),
    "relevance": ("relevance", "created_at", "id"),
}
# sort=relevance ranks this many of the newest matches: a bounded cost for any word.
RELEVANCE_CANDIDATES = 1000
# A search that is a ticket's number ("51", "#51") also finds that ticket.
_NUMBER = re.compile(r"#?([0-9]{1,18})")
# Around each match in a snippet, replaced by <mark> tags once the text is escaped.
_START, _STOP = "\x02", "\x03"
_HEADLINE_OPTIONS = (
    f"StartSel={_START}, StopSel={_STOP}, MaxWords=30, MinWords=12, MaxFragments=2, "
    'FragmentDelimiter=" … "'
)


class _Listed(Ticket):
    """A ticket with the rank its priority sorts by, for the cursor."""

    priority_rank: int


class _Ranked(_Listed):
    """A ticket with how well it matched the search, for sort=relevance and its cursor."""

    relevance: float


def search_document(actor: Actor) -> LiteralString:
    """The search document ``actor`` searches: staff's covers internal notes."""
    return "search_staff" if access.sees_internal(actor) else "search_public"


def ticket_number(q: str) -> int | None:
    """The ticket number ``q`` names (``51`` or ``#51``), if it is one."""
    match = _NUMBER.fullmatch(q)
    return int(match[1]) if match else None


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
            elif column == "relevance" and type(value) in (int, float) and 0 <= value < 2:
                values.append(float(value))
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
    actor: Actor, filters: TicketFilters, my_teams: Sequence[UUID]
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
    if filters.team is not None:
        if not access.sees_triage(actor):
            raise Forbidden(
                "Only agents and admins may filter by team.", code="staff_only", field="team"
            )
        # tickets_team_idx serves each of these.
        if filters.team == "none":
            add("team_id is null")
        elif filters.team == "mine" and len(my_teams) == 1:
            # Most people are in one team: an equality reads the index in order.
            add("team_id = %(team)s", team=my_teams[0])
        elif filters.team == "mine":
            add("team_id = any(%(teams)s::uuid[])", teams=list(my_teams))
        else:
            add("team_id = %(team)s", team=UUID(filters.team))
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
        document = sql.Identifier(search_document(actor))
        params["q"] = filters.q
        match = sql.SQL("{} @@ websearch_to_tsquery('english', %(q)s)").format(document)
        if (number := ticket_number(filters.q)) is not None:
            match = sql.SQL("({} or number = %(q_number)s)").format(match)
            params["q_number"] = number
        where.append(match)
    return where, params


def listing_query(
    actor: Actor,
    filters: TicketFilters,
    *,
    sort: SortKey,
    cursor: str | None,
    limit: int,
    my_teams: Sequence[UUID] = (),
) -> tuple[sql.Composed, dict[str, Any]]:
    """The SELECT of a page of the tickets ``actor`` may see, and its parameters: one row
    more than ``limit``, to tell whether another page follows (``my_teams``: the teams
    ``actor`` is in, for ``team=mine``)."""
    if sort == "relevance" and not filters.q:
        raise InvalidInput(
            "Sorting by relevance needs a search (q).", code="relevance_needs_q", field="sort"
        )
    where, params = _filter_clauses(actor, filters, my_teams)
    descending = sort.startswith("-") or sort == "relevance"
    keys = SORT_COLUMNS[sort.lstrip("-")]
    keyset = sql.SQL(", ").join(sql.Identifier(c) for c in keys)
    after: list[sql.Composable] = []
    if cursor is not None:
        values = _decode_cursor(cursor, sort)
        placeholders = sql.SQL(", ").join(
            # A rank is a real: compared as one, it matches the row it came from exactly.
            sql.Composed([sql.Placeholder("k0"), sql.SQL("::real")])
            if i == 0 and sort == "relevance"
            else sql.Placeholder(f"k{i}")
            for i in range(len(values))
        )
        after.append(
            sql.SQL("({}) {} ({})").format(
                keyset, sql.SQL("<" if descending else ">"), placeholders
            )
        )
        params.update({f"k{i}": v for i, v in enumerate(values)})
    direction = sql.SQL(" desc" if descending else " asc")
    order = sql.SQL(", ").join(sql.Composed([sql.Identifier(c), direction]) for c in keys)
    if sort != "relevance":
        where += after
        query = sql.SQL(
            "select {columns} from tickets {where} order by {order} limit {limit}"
        ).format(
            columns=columns(_Listed),
            where=sql.SQL("where ") + sql.SQL(" and ").join(where) if where else sql.SQL(""),
            order=order,
            limit=sql.Literal(limit + 1),
        )
        return query, params
    # The newest matches, ranked (normalised to [0, 1); the ticket the number names first).
    number_match = sql.SQL("(number = %(q_number)s)::int" if "q_number" in params else "0")
    query = sql.SQL(
        "select * from ("
        " select {columns}, (ts_rank({document}, websearch_to_tsquery('english', %(q)s), 32)"
        " + {number_match})::real as relevance from ("
        "  select * from tickets where {where} order by created_at desc, id desc"
        "  limit {candidates}) as candidates"
        ") as ranked {after} order by {order} limit {limit}"
    ).format(
        columns=columns(_Listed),
        document=sql.Identifier(search_document(actor)),
        number_match=number_match,
        where=sql.SQL(" and ").join(where),
        candidates=sql.Literal(RELEVANCE_CANDIDATES),
        after=sql.SQL("where ") + after[0] if after else sql.SQL(""),
        order=order,
        limit=sql.Literal(limit + 1),
    )
    return query, params


class _Snippet(BaseModel):
    id: UUID
    headline: str


async def snippets(conn: Connection, actor: Actor, ids: list[UUID], q: str) -> dict[UUID, str]:
    """Where ``q`` matched in each ticket of ``ids`` (its description and the comments
    ``actor`` may read), as HTML: the text escaped, each match in ``<mark>``."""
    rows = await fetch_all(
        conn,
        _Snippet,
        Q.search_snippets,
        {
            "ids": ids,
            "q": q,
            "staff": access.sees_internal(actor),
            "options": _HEADLINE_OPTIONS,
            "sentinels": _START + _STOP,
        },
    )
    return {
        row.id: html.escape(row.headline, quote=False)
        .replace(_START, "<mark>")
        .replace(_STOP, "</mark>")
        for row in rows
    }


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
    my_teams = await teams.teams_of(conn, actor.id) if filters.team == "mine" else []
    query, params = listing_query(
        actor, filters, sort=sort, cursor=cursor, limit=limit, my_teams=my_teams
    )
    rows = await fetch_all(
        conn,
        _Ranked if sort == "relevance" else _Listed,
        query,
        params,
        # A search is planned for its words: how common they are decides the plan.
        prepare=False if filters.q else None,
    )
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1].model_dump()
        next_cursor = _encode_cursor(sort, [last[c] for c in SORT_COLUMNS[sort.lstrip("-")]])
    items = await summaries(conn, actor, page, reopen_window=reopen_window)
    if filters.q and items:
        found = await snippets(conn, actor, [t.id for t in items], filters.q)
        items = [t.model_copy(update={"snippet": found.get(t.id)}) for t in items]
    return TicketPage(items=items, next_cursor=next_cursor)
