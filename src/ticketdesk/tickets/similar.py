"""Likely duplicates of a ticket about to be opened, found by its title.

Candidates are the newest tickets whose public search document has any of the title's
words, and the newest that have all of them (a bounded set whatever the words); each is
scored by the trigram similarity of its title to this one (``pg_trgm``) plus its
``ts_rank``. A misspelt word still finds a ticket through the others, and its title then
scores close. Without ``pg_trgm`` (the embedded demo server lacks it: migration 0017
creates it only where the server has it) the rank alone scores. Always within what the
caller may see: a submitter's own tickets.

A nearest-neighbour search over a GiST trigram index (``order by title <-> …``) was
measured and not used: about 100 ms for 20 neighbours at 100,000 tickets, growing with
the table, where this stays near 2 ms (bench/search.py).
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import sql
from pydantic import BaseModel, Field

from ticketdesk.auth.service import Actor
from ticketdesk.db import Connection
from ticketdesk.sql import fetch_all
from ticketdesk.tickets import access
from ticketdesk.tickets.schemas import Status

# How many of the newest tickets with any, and with all, of the title's words are scored.
CANDIDATES = 100
# Candidates scoring below this are not worth showing.
MIN_SCORE = 0.15


class TitleWords(BaseModel):
    """A title's words as text queries, any of them and all of them (null when it has only
    stop words), and whether the database has pg_trgm."""

    trigrams: bool
    any_word: str | None
    all_words: str | None


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


async def title_words(conn: Connection, title: str) -> TitleWords:
    """The title's words as two text queries (any, all), and whether pg_trgm is here.

    Made first, so that the search is planned knowing how common the words are."""
    rows = await fetch_all(
        conn,
        TitleWords,
        # PostgreSQL's own text form of the query: quoted lexemes joined by " & ", never
        # inside one (a lexeme holds no space), so " | " in their place means any of them.
        "select to_regprocedure('similarity(text, text)') is not null as trigrams,"
        " nullif(replace(words::text, ' & ', ' | '), '') as any_word,"
        " nullif(words::text, '') as all_words"
        " from plainto_tsquery('english', %(title)s) as words",
        {"title": title},
    )
    return rows[0]


def similar_query(
    actor: Actor, title: str, words: TitleWords, *, limit: int
) -> tuple[sql.Composed, dict[str, Any]]:
    """The SELECT of the tickets ``actor`` may see most like ``title`` (whose ``words``
    have both text queries), and its parameters."""
    params: dict[str, Any] = {"title": title, "any": words.any_word, "all": words.all_words}
    scope = sql.SQL("")
    if (submitter := access.submitter_scope(actor)) is not None:
        scope = sql.SQL("user_id = %(scope)s and ")
        params["scope"] = submitter
    query = sql.SQL(
        "with candidates as ("
        " select id from (select id from tickets where {scope}search_public @@ %(any)s::tsquery"
        "  order by created_at desc, id desc limit {candidates}) as any_word"
        " union"
        " select id from (select id from tickets where {scope}search_public @@ %(all)s::tsquery"
        "  order by created_at desc, id desc limit {candidates}) as all_words"
        ") select * from ("
        " select t.id, t.number, t.title, t.status, t.created_at,"
        "  ({similarity} + ts_rank(t.search_public, %(any)s::tsquery, 32))::float8 as score"
        " from candidates join tickets t using (id)"
        ") as scored where score >= {min_score}"
        " order by score desc, created_at desc, id desc limit {limit}"
    ).format(
        scope=scope,
        candidates=sql.Literal(CANDIDATES),
        similarity=sql.SQL("similarity(t.title, %(title)s)") if words.trigrams else sql.SQL("0"),
        min_score=sql.Literal(MIN_SCORE),
        limit=sql.Literal(limit),
    )
    return query, params


async def similar_tickets(
    conn: Connection, actor: Actor, title: str, *, limit: int
) -> list[SimilarTicket]:
    """Up to ``limit`` tickets ``actor`` may see that are most like ``title``, best first."""
    words = await title_words(conn, title)
    if words.any_word is None or words.all_words is None:
        return []  # only stop words
    query, params = similar_query(actor, title, words, limit=limit)
    # Planned for these words and this caller each time (see listing.list_tickets).
    return await fetch_all(conn, SimilarTicket, query, params, prepare=False)
