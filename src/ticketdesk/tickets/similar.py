"""Likely duplicates of a ticket about to be opened, found by its title.

Two bounded candidate sets, scored together: the titles nearest by trigram distance
(``pg_trgm``'s GiST index, ``<->``), and the newest tickets whose public search document
has any of the title's words, ranked by ``ts_rank``. Without ``pg_trgm`` (the embedded
demo server lacks it; migration 0017 then makes no trigram index) only the second is used.
Always within what the caller may see: a submitter's own tickets.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import sql
from pydantic import BaseModel, Field

from ticketdesk.auth.service import Actor
from ticketdesk.db import Connection
from ticketdesk.sql import fetch_all, fetch_value
from ticketdesk.tickets import access
from ticketdesk.tickets.schemas import Status

# How many titles nearest by trigrams, and how many of the newest word matches, are scored.
NEAREST_TITLES = 20
NEWEST_WORD_MATCHES = 200
# Candidates scoring below this are not worth showing.
MIN_SCORE = 0.15


class SimilarTicket(BaseModel):
    """A ticket that may be about the same thing."""

    id: UUID
    number: int
    title: str
    status: Status
    created_at: datetime
    score: float = Field(
        description="Trigram similarity of the titles plus the full-text rank; higher is closer."
    )


async def has_trigrams(conn: Connection) -> bool:
    """Whether this database has the trigram index on titles (pg_trgm was available)."""
    return await fetch_value(conn, bool, "select to_regclass('tickets_title_trgm_idx') is not null")


def similar_query(
    actor: Actor, title: str, *, limit: int, trigrams: bool
) -> tuple[sql.Composed, dict[str, Any]]:
    """The SELECT of the tickets ``actor`` may see most like ``title``, and its parameters."""
    params: dict[str, Any] = {"title": title}
    scope = sql.SQL("true")
    if (submitter := access.submitter_scope(actor)) is not None:
        scope = sql.SQL("user_id = %(scope)s")
        params["scope"] = submitter
    nearest = sql.SQL(
        " union select id from (select id from tickets where {scope}"
        " order by title <-> %(title)s limit {nearest}) as nearest"
    )
    similarity = sql.SQL("similarity(t.title, %(title)s)")
    query = sql.SQL(
        "with words as ("
        # Any of the title's words: each lexeme quoted, joined by OR.
        " select (select string_agg(quote_literal(lexeme), ' | ')"
        "  from unnest(tsvector_to_array(to_tsvector('english', %(title)s))) as lexeme"
        " )::tsquery as query"
        "), candidates as ("
        " select id from (select id from tickets, words where {scope}"
        "  and search_public @@ words.query order by created_at desc, id desc"
        "  limit {newest}) as newest"
        " {nearest}"
        ") select * from ("
        " select t.id, t.number, t.title, t.status, t.created_at,"
        "  ({similarity} + coalesce(ts_rank(t.search_public, words.query, 32), 0))::float8"
        "  as score"
        " from candidates join tickets t using (id), words"
        ") as scored where score >= {min_score}"
        " order by score desc, created_at desc, id desc limit {limit}"
    ).format(
        scope=scope,
        newest=sql.Literal(NEWEST_WORD_MATCHES),
        nearest=nearest.format(scope=scope, nearest=sql.Literal(NEAREST_TITLES))
        if trigrams
        else sql.SQL(""),
        similarity=similarity if trigrams else sql.SQL("0"),
        min_score=sql.Literal(MIN_SCORE),
        limit=sql.Literal(limit),
    )
    return query, params


async def similar_tickets(
    conn: Connection, actor: Actor, title: str, *, limit: int
) -> list[SimilarTicket]:
    """Up to ``limit`` tickets ``actor`` may see that are most like ``title``, best first."""
    query, params = similar_query(actor, title, limit=limit, trigrams=await has_trigrams(conn))
    return await fetch_all(conn, SimilarTicket, query, params)
