"""Ticket lists: filters, sort keys and keyset cursors (never OFFSET).

A page is read in the order of one index: each sort's columns end in ``id``, so the
keyset is total and the next page starts strictly after the last row of this one.

Search (``q``) is one GIN lookup on the ticket's search document for the caller's
audience (migration 0017): staff search internal notes too, a submitter never does.
``sort=relevance`` ranks the newest ``RELEVANCE_CANDIDATES`` matches by ``ts_rank``; its
cursor is a keyset over (rank, created_at, id) within them.

Custom fields (``fields``): ``cf.<key>`` filters are each one range of the field's typed
index; ``sort=cf.<key>`` (``-cf.<key>``) orders by the field's value, then id, with the
tickets that have no value last either way, by id, and its cursor is (value or null, id):
a page reads that index in order too (``_field_sorted_query``).
"""

import base64
import binascii
import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, LiteralString
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from ticketdesk.auth.service import Actor
from ticketdesk.db import Connection
from ticketdesk.errors import Forbidden, InvalidInput
from ticketdesk.fields import service as fields
from ticketdesk.fields.schemas import CustomField
from ticketdesk.sql import columns, fetch_all, fetch_value, load_queries
from ticketdesk.teams import service as teams
from ticketdesk.tickets import access
from ticketdesk.tickets.schemas import ListSort, Ticket, TicketFilters, TicketPage
from ticketdesk.tickets.service import summaries

Q = load_queries(__package__)

SORT_COLUMNS: dict[str, tuple[LiteralString, ...]] = {
    "created": ("created_at", "id"),
    "updated": ("updated_at", "id"),
    "priority": ("priority_rank", "created_at", "id"),
    # Overdue first, then the soonest due; tickets with no running SLA clock last.
    "sla_due": ("sla_sort_at", "id"),
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
    """A ticket with the keys its priority and SLA sort by, for the cursor."""

    priority_rank: int
    sla_sort_at: datetime


class _Ranked(_Listed):
    """A ticket with how well it matched the search, for sort=relevance and its cursor."""

    relevance: float


class _FieldSorted(_Listed):
    """A ticket with its value of the custom field it is sorted by, for the cursor."""

    cf_sort: Any


@dataclass(frozen=True)
class CustomFieldListing:
    """The custom fields a list filters (``cf.<key>``) and sorts by (``sort=cf.<key>``)."""

    filters: list[fields.Filter]
    sort: CustomField | None = None


async def custom_field_listing(
    conn: Connection, actor: Actor, filters: TicketFilters, sort: str
) -> CustomFieldListing:
    """The custom fields ``filters`` and ``sort`` name, checked: fields the caller may see
    (a 422 on ``cf.<key>`` or ``sort`` otherwise); a multi_select cannot be sorted by."""
    staff = access.sees_internal(actor)
    found = await fields.filters(conn, filters.custom_fields, staff=staff)
    if not sort.lstrip("-").startswith("cf."):
        return CustomFieldListing(found)
    field = await fields.field_by_key(conn, sort.lstrip("-")[3:], staff=staff, name="sort")
    if field.type == "multi_select":
        raise InvalidInput(
            f"{field.label} holds several values and cannot be sorted by.",
            code="unsortable_custom_field",
            field="sort",
        )
    return CustomFieldListing(found, field)


def search_document(actor: Actor) -> LiteralString:
    """The search document ``actor`` searches: staff's covers internal notes."""
    return "search_staff" if access.sees_internal(actor) else "search_public"


def ticket_number(q: str) -> int | None:
    """The ticket number ``q`` names (``51`` or ``#51``), if it is one."""
    match = _NUMBER.fullmatch(q)
    return int(match[1]) if match else None


def _cursor_text(value: Any) -> Any:
    # Numbers in plain positional notation, which the cursor's reader takes back.
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _encode_cursor(sort: str, values: list[Any]) -> str:
    raw = json.dumps([sort, *values], default=_cursor_text, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str, field: CustomField | None = None) -> list[Any]:
    bad = InvalidInput("The cursor is not valid for this list.", code="bad_cursor", field="cursor")
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        raise bad from None
    keys = _sort_keys(sort)
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
            elif column == "cf_sort" and field is not None:
                values.append(fields.cursor_value(field, value))
            else:
                raise bad
        except ValueError:
            raise bad from None
    return values


def _sort_keys(sort: str) -> tuple[LiteralString, ...]:
    """The columns a sort orders by, as its cursor holds them."""
    if sort.lstrip("-").startswith("cf."):
        return ("cf_sort", "id")
    return SORT_COLUMNS[sort.lstrip("-")]


def _filter_clauses(
    actor: Actor,
    filters: TicketFilters,
    custom: CustomFieldListing | None = None,
    my_teams: Sequence[UUID] = (),
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
    if filters.sla:
        if not access.sees_triage(actor):
            raise Forbidden(
                "Only agents and admins may filter by SLA state.", code="staff_only", field="sla"
            )
        # The partial index tickets_sla_state_idx serves it; for one state, in the order
        # of sort=sla_due too.
        if len(set(filters.sla)) == 1:
            add("sla_state = %(sla)s", sla=filters.sla[0])
        else:
            add("sla_state = any(%(sla)s::text[])", sla=filters.sla)
    if filters.q:
        document = sql.Identifier(search_document(actor))
        params["q"] = filters.q
        match = sql.SQL("{} @@ websearch_to_tsquery('english', %(q)s)").format(document)
        if (number := ticket_number(filters.q)) is not None:
            match = sql.SQL("({} or number = %(q_number)s)").format(match)
            params["q_number"] = number
        where.append(match)
    for index, item in enumerate(custom.filters if custom else []):
        clause, values = fields.filter_clause(item, index)
        where.append(clause)
        params.update(values)
    return where, params


def _field_sorted_query(
    where: list[sql.Composable],
    params: dict[str, Any],
    field: CustomField,
    *,
    descending: bool,
    cursor: str | None,
    sort: str,
    limit: int,
) -> tuple[sql.Composed, dict[str, Any]]:
    """The page of a sort by a custom field's value: by the value, then id, either way,
    with the tickets that have none last, by id. Its keyset is (value or null, id).

    A page reads the field type's index (field, value, ticket) in order: ranges of it,
    each ordered and limited, one after the other (``union all``, whose parts PostgreSQL
    runs in turn, stopping once the page is full; a limited part is never run in parallel
    with another, only within itself, in order): first the tickets with a value (a
    select: one range an option, in the order of its options, which the cursor holds as
    the option's place), then those without one, by id. A page within the values reads
    no further than it shows, whatever the size of the list."""
    params["cf_sort_field"] = field.id
    last: Any = None
    last_id: UUID | None = None
    if cursor is not None:
        last, last_id = _decode_cursor(cursor, sort, field)
        params["k_id"] = last_id
    beyond = sql.SQL("<" if descending else ">")
    direction = sql.SQL("desc" if descending else "asc")
    listed = sql.SQL(", ").join(
        sql.SQL("tickets.{}").format(sql.Identifier(name)) for name in _Listed.model_fields
    )
    filtered = sql.SQL("").join(sql.SQL(" and ") + clause for clause in where)
    column = sql.Identifier(fields.value_column(field))
    limited = sql.Literal(limit + 1)

    def valued(value: sql.Composable, test: sql.Composable, order: sql.Composable) -> sql.Composed:
        # One ordered range of the typed index, each ticket looked up by its key.
        return sql.SQL(
            "(select {listed}, {value} as cf_sort from ticket_field_values v"
            " join tickets on tickets.id = v.ticket_id"
            " where v.field_id = %(cf_sort_field)s and {test}{filtered}"
            " order by {order} limit {limit})"
        ).format(
            listed=listed, value=value, test=test, filtered=filtered, order=order, limit=limited
        )

    parts: list[sql.Composable] = []
    if last is not None or last_id is None:
        if field.type == "select":
            # In the order of its options, not of their names: a range an option.
            ranks = range(1, len(field.options) + 1)
            for rank in reversed(ranks) if descending else ranks:
                if last is not None and (rank > last if descending else rank < last):
                    continue
                params[f"cf_sort_option{rank}"] = field.options[rank - 1]
                test = sql.SQL("v.text_value = {}").format(sql.Placeholder(f"cf_sort_option{rank}"))
                if rank == last:
                    # Both sides bounded, whichever way the planner joins them.
                    test += sql.SQL(
                        " and v.ticket_id {beyond} %(k_id)s and tickets.id {beyond} %(k_id)s"
                    ).format(beyond=beyond)
                parts.append(
                    valued(
                        sql.Literal(rank),
                        test,
                        sql.SQL("v.ticket_id {}").format(direction),
                    )
                )
        else:
            test = sql.SQL("v.{} is not null").format(column)
            if last is not None:
                params["k_value"] = last
                test += sql.SQL(" and (v.{}, v.ticket_id) {} (%(k_value)s, %(k_id)s)").format(
                    column, beyond
                )
            parts.append(
                valued(
                    sql.SQL("v.{}").format(column),
                    test,
                    sql.SQL("v.{column} {direction}, v.ticket_id {direction}").format(
                        column=column, direction=direction
                    ),
                )
            )
    # Then the tickets without a value, by id (past the cursor's, both sides bounded).
    after: sql.Composable = sql.SQL("")
    inside: sql.Composable = sql.SQL("")
    if last is None and last_id is not None:
        after = sql.SQL(" and tickets.id {} %(k_id)s").format(beyond)
        inside = sql.SQL(" and v.ticket_id {} %(k_id)s").format(beyond)
    parts.append(
        sql.SQL(
            "(select {listed}, null::{type} as cf_sort from tickets"
            " where not exists (select from ticket_field_values v"
            " where v.ticket_id = tickets.id and v.field_id = %(cf_sort_field)s{inside})"
            "{after}{filtered} order by tickets.id {direction} limit {limit})"
        ).format(
            listed=listed,
            type=sql.SQL(fields.sort_type(field)),
            inside=inside,
            after=after,
            filtered=filtered,
            direction=direction,
            limit=limited,
        )
    )
    query = sql.SQL("select * from ({parts}) as page limit {limit}").format(
        parts=sql.SQL(" union all ").join(parts), limit=limited
    )
    return query, params


def listing_query(
    actor: Actor,
    filters: TicketFilters,
    *,
    sort: ListSort,
    cursor: str | None,
    limit: int,
    custom: CustomFieldListing | None = None,
    my_teams: Sequence[UUID] = (),
) -> tuple[sql.Composed, dict[str, Any]]:
    """The SELECT of a page of the tickets ``actor`` may see, and its parameters: one row
    more than ``limit``, to tell whether another page follows. ``custom``: the custom
    fields the filters and sort name, as ``custom_field_listing`` found them; ``my_teams``:
    the teams ``actor`` is in, for ``team=mine``."""
    if sort == "relevance" and not filters.q:
        raise InvalidInput(
            "Sorting by relevance needs a search (q).", code="relevance_needs_q", field="sort"
        )
    if sort.lstrip("-") == "sla_due" and not access.sees_triage(actor):
        raise Forbidden(
            "Only agents and admins may sort by SLA due time.", code="staff_only", field="sort"
        )
    where, params = _filter_clauses(actor, filters, custom, my_teams)
    descending = sort.startswith("-") or sort == "relevance"
    if custom is not None and custom.sort is not None:
        return _field_sorted_query(
            where,
            params,
            custom.sort,
            descending=descending,
            cursor=cursor,
            sort=sort,
            limit=limit,
        )
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
    sort: ListSort,
    cursor: str | None,
    limit: int,
    reopen_window: timedelta,
) -> TicketPage:
    """A page of the tickets ``actor`` may see, in keyset order (no OFFSET); each with the
    statuses ``actor`` may move it to, given the ``reopen_window`` setting."""
    custom = await custom_field_listing(conn, actor, filters, sort)
    my_teams = await teams.teams_of(conn, actor.id) if filters.team == "mine" else []
    query, params = listing_query(
        actor, filters, sort=sort, cursor=cursor, limit=limit, custom=custom, my_teams=my_teams
    )
    row: type[_Listed] = _Listed
    if sort == "relevance":
        row = _Ranked
    elif custom.sort is not None:
        row = _FieldSorted
    rows = await fetch_all(
        conn,
        row,
        query,
        params,
        # A search is planned for its words: how common they are decides the plan.
        prepare=False if filters.q else None,
    )
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1].model_dump()
        next_cursor = _encode_cursor(sort, [last[c] for c in _sort_keys(sort)])
    items = await summaries(conn, actor, page, reopen_window=reopen_window)
    if filters.q and items:
        found = await snippets(conn, actor, [t.id for t in items], filters.q)
        items = [t.model_copy(update={"snippet": found.get(t.id)}) for t in items]
    return TicketPage(items=items, next_cursor=next_cursor)


async def count_tickets(conn: Connection, actor: Actor, filters: TicketFilters, *, cap: int) -> int:
    """How many tickets ``actor`` may see match ``filters``, counting no further than
    ``cap``: the count stops at ``cap`` matching rows, however many more match. (Filters
    that match few of many tickets still read what their indexes leave to check.)"""
    custom = CustomFieldListing(
        await fields.filters(conn, filters.custom_fields, staff=access.sees_internal(actor))
    )
    my_teams = await teams.teams_of(conn, actor.id) if filters.team == "mine" else []
    where, params = _filter_clauses(actor, filters, custom, my_teams)
    query = sql.SQL(
        "select count(*) from (select 1 from tickets {where} limit {cap}) as counted"
    ).format(
        where=sql.SQL("where ") + sql.SQL(" and ").join(where) if where else sql.SQL(""),
        cap=sql.Literal(cap),
    )
    return await fetch_value(conn, int, query, params)


async def matching_condition(
    conn: Connection, actor: Actor, filters: TicketFilters
) -> tuple[sql.Composable, dict[str, Any]]:
    """The condition on ``tickets`` of those ``actor`` may see that match ``filters``, as
    the list checks them (a 422 naming the filter otherwise), and its parameters: for
    reading them other than a page at a time (an export)."""
    custom = CustomFieldListing(
        await fields.filters(conn, filters.custom_fields, staff=access.sees_internal(actor))
    )
    my_teams = await teams.teams_of(conn, actor.id) if filters.team == "mine" else []
    where, params = _filter_clauses(actor, filters, custom, my_teams)
    return (sql.SQL(" and ").join(where) if where else sql.SQL("true")), params
