"""How fast search is at scale: `q` for words common, rare and absent, a phrase, an
exclusion, a ticket number, relevance, and `GET /tickets/similar`.

Fills a database of its own (`ticketdesk_bench_search`, reused when it already holds the
same number of tickets) with N tickets of generated help-desk text and 1-5 comments each
(one in four an internal note), loaded with COPY while the search triggers are off and
then indexed by one `ticket_search_refresh()`, as a bulk load should. Then times, as an
agent and as a submitter, `tickets.listing.list_tickets` and
`tickets.similar.similar_tickets` (the code the API runs: page, summaries and snippets),
and prints p50/p95/p99 of the runs after ten untimed ones.

    .venv/bin/python bench/search.py [--tickets 100000] [--runs 200] [--explain]

--explain prints `EXPLAIN (ANALYZE, BUFFERS)` of each case's query. Uses
BENCH_DATABASE_URL's server (default: postgres on 127.0.0.1:5432); --drop removes the
database afterwards.
"""

import argparse
import asyncio
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row, tuple_row

from ticketdesk import db
from ticketdesk.auth.service import Actor
from ticketdesk.config import Settings
from ticketdesk.tickets import listing, similar
from ticketdesk.tickets.schemas import SortKey, TicketFilters

SERVER = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NAME = "ticketdesk_bench_search"
WINDOW = Settings().reopen_window
RARE = "zebracorn"  # in one ticket's comment only
ABSENT = "quixotically"  # in no ticket
WARMUP = 10  # untimed runs of each case first

COMMON = [
    "export",
    "report",
    "page",
    "button",
    "error",
    "login",
    "invoice",
    "customer",
    "dashboard",
    "settings",
    "email",
    "password",
    "account",
    "browser",
    "upload",
    "file",
    "download",
    "payment",
    "order",
    "search",
    "filter",
    "chart",
    "table",
    "import",
    "sync",
    "webhook",
    "slack",
    "notification",
    "mobile",
    "screen",
    "crash",
    "slow",
    "timeout",
    "update",
    "version",
    "release",
    "billing",
    "plan",
    "team",
    "user",
    "admin",
    "permission",
    "role",
    "token",
    "api",
]
FILLER = [
    "the",
    "a",
    "when",
    "I",
    "we",
    "it",
    "is",
    "was",
    "after",
    "before",
    "with",
    "without",
    "on",
    "in",
    "to",
    "from",
    "for",
    "and",
    "but",
    "not",
    "again",
    "still",
    "also",
    "every",
    "sometimes",
    "never",
    "shows",
    "opens",
    "closes",
    "fails",
    "works",
    "stops",
    "loads",
    "returns",
    "seems",
    "clicking",
    "pressing",
    "trying",
    "using",
    "expected",
    "instead",
    "happened",
    "today",
]
# A long tail of rarer words, each in a few hundred tickets at 100 k.
TAIL = [f"{a}{b}" for a in ("kal", "mor", "ven", "tis", "dra", "pel") for b in range(60)]


def sentence(rng: random.Random, words: int) -> str:
    """Plausible ticket text: common terms, filler and a rarer word now and then."""
    out = []
    for _ in range(words):
        roll = rng.random()
        if roll < 0.35:
            out.append(rng.choice(COMMON))
        elif roll < 0.97:
            out.append(rng.choice(FILLER))
        else:
            out.append(rng.choice(TAIL))
    return " ".join(out).capitalize() + "."


def fill(dsn: str, tickets: int) -> None:
    """Users, then tickets and comments by COPY with the search triggers off, then one
    set-based refresh of every search document."""
    rng = random.Random(12)
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "insert into users (email, name, role, password_hash)"
            " select 'person' || n || '@bench.test', 'Person ' || n,"
            " case when n <= 20 then 'agent' else 'user' end, null"
            " from generate_series(1, 2020) n"
        )
        agents, submitters = (
            [r[0] for r in conn.execute("select id from users where role = %s", (role,))]
            for role in ("agent", "user")
        )
        conn.execute("alter table tickets disable trigger tickets_search_documents")
        conn.execute("alter table comments disable trigger comments_search_documents")
        try:
            now = datetime.now(UTC)
            ids = [uuid.uuid4() for _ in range(tickets)]
            statuses = ("open", "in_progress", "waiting", "resolved", "closed", "closed")
            with conn.cursor() as cur:
                with cur.copy(
                    "copy tickets (id, user_id, type, priority, status, title, description,"
                    " assigned_to_user_id, created_at, updated_at) from stdin"
                ) as copy:
                    for g, ticket_id in enumerate(ids):
                        created = now - timedelta(seconds=(tickets - g) * 30)
                        copy.write_row(
                            (
                                ticket_id,
                                submitters[g % len(submitters)],
                                ("bug", "feature", "support")[g % 3],
                                ("low", "medium", "medium", "high", "critical")[g % 5],
                                statuses[g % len(statuses)],
                                sentence(rng, rng.randint(4, 10))[:200].ljust(10, "."),
                                " ".join(sentence(rng, 12) for _ in range(rng.randint(2, 6))),
                                None if g % 4 == 0 else agents[g % 20],
                                created,
                                created + timedelta(seconds=g % 5000),
                            )
                        )
                with cur.copy(
                    "copy comments (ticket_id, author_id, body, is_internal, created_at,"
                    " updated_at) from stdin"
                ) as copy:
                    rare_at = tickets // 2
                    for g, ticket_id in enumerate(ids):
                        created = now - timedelta(seconds=(tickets - g) * 30)
                        for k in range(rng.randint(1, 5)):
                            internal = rng.random() < 0.25
                            body = " ".join(sentence(rng, 10) for _ in range(rng.randint(1, 4)))
                            if g == rare_at and k == 0:
                                body += f" The {RARE} account again."
                            author = agents[g % 20] if internal or k % 2 else submitters[0]
                            at = created + timedelta(minutes=k + 1)
                            copy.write_row((ticket_id, author, body, internal, at, at))
        finally:
            conn.execute("alter table tickets enable trigger tickets_search_documents")
            conn.execute("alter table comments enable trigger comments_search_documents")
        loaded = time.perf_counter()
        conn.execute("select ticket_search_refresh()")
        conn.execute("vacuum analyze tickets")
        conn.execute("vacuum analyze comments")
    print(
        f"filled {tickets:,} tickets: COPY {loaded - started:.0f} s,"
        f" ticket_search_refresh() and vacuum {time.perf_counter() - loaded:.0f} s"
    )


def ensure_database(tickets: int) -> str:
    """The bench database, migrated and holding ``tickets`` tickets."""
    dsn = psycopg.conninfo.make_conninfo(SERVER, dbname=NAME)
    with psycopg.connect(SERVER, autocommit=True) as conn:
        if conn.execute("select 1 from pg_database where datname = %s", (NAME,)).fetchone():
            with psycopg.connect(dsn) as bench:
                row = bench.execute("select count(*) from tickets").fetchone()
            if row is not None and row[0] == tickets:
                asyncio.run(db.migrate(dsn))
                return dsn
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(NAME)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(NAME)))
    asyncio.run(db.migrate(dsn))
    fill(dsn, tickets)
    return dsn


async def actors(dsn: str) -> dict[str, Actor]:
    """An agent, and the submitter with the most tickets."""
    async with await psycopg.AsyncConnection.connect(dsn, row_factory=dict_row) as conn:
        cur = await conn.execute(
            "select id, email, name, role from users where role = 'agent' order by email limit 1"
        )
        agent = Actor(**(await cur.fetchone() or {}))
        cur = await conn.execute(
            "select id, email, name, role from users where id = ("
            " select user_id from tickets group by user_id order by count(*) desc limit 1)"
        )
        user = Actor(**(await cur.fetchone() or {}))
    return {"agent": agent, "submitter": user}


async def cases(dsn: str) -> list[tuple[str, str, dict[str, Any], SortKey | None]]:
    """(label, who, what, sort): sort None means the similar-tickets query."""
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cur = await conn.execute("select number, title from tickets order by number limit 1")
        number, title = await cur.fetchone() or (0, "")
    typo = title[:-3] + title[-2:] if len(title) > 12 else title
    return [
        ("q common word", "agent", {"q": "export"}, "-created"),
        ("q rare word (1 ticket)", "agent", {"q": RARE}, "-created"),
        ("q absent word", "agent", {"q": ABSENT}, "-created"),
        ("q phrase", "agent", {"q": '"export button"'}, "-created"),
        ("q -word exclusion", "agent", {"q": "export -invoice"}, "-created"),
        ("q number", "agent", {"q": f"#{number}"}, "-created"),
        ("q open + common word", "agent", {"q": "export", "status": ["open"]}, "-created"),
        ("q relevance, common word", "agent", {"q": "export"}, "relevance"),
        ("q relevance, rare word", "agent", {"q": RARE}, "relevance"),
        ("submitter q common word", "submitter", {"q": "export"}, "-created"),
        ("submitter q absent word", "submitter", {"q": ABSENT}, "-created"),
        ("similar (title with a typo)", "agent", {"title": typo}, None),
        ("similar, submitter", "submitter", {"title": typo}, None),
        ("similar, absent words", "agent", {"title": f"{ABSENT} {RARE}x fails"}, None),
    ]


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def bench(dsn: str, runs: int, explain: bool) -> None:
    """Print a line per case: p50, p95, p99 and the rows of the first page."""
    pool = await db.open_pool(dsn, min_size=1, max_size=2)
    people = await actors(dsn)
    print(f"{'case':<30} {'p50':>8} {'p95':>8} {'p99':>8} {'rows':>5}")
    for label, who, what, sort in await cases(dsn):
        actor = people[who]
        timings: list[float] = []
        found = 0
        async with pool.connection() as conn:
            for run in range(-WARMUP, runs):
                started = time.perf_counter()
                async with conn.transaction():
                    if sort is None:
                        found = len(
                            await similar.similar_tickets(conn, actor, what["title"], limit=5)
                        )
                    else:
                        page = await listing.list_tickets(
                            conn,
                            actor,
                            TicketFilters(**what),
                            sort=sort,
                            cursor=None,
                            limit=25,
                            reopen_window=WINDOW,
                        )
                        found = len(page.items)
                if run >= 0:
                    timings.append((time.perf_counter() - started) * 1000)
            print(
                f"{label:<30} {statistics.median(timings):>5.1f} ms"
                f" {percentile(timings, 95):>5.1f} ms {percentile(timings, 99):>5.1f} ms"
                f" {found:>5}"
            )
            if explain:
                if sort is None:
                    words = await similar.title_words(conn, what["title"])
                    query, params = similar.similar_query(actor, what["title"], words, limit=5)
                else:
                    query, params = listing.listing_query(
                        actor, TicketFilters(**what), sort=sort, cursor=None, limit=25
                    )
                async with conn.cursor(row_factory=tuple_row) as cur:
                    await cur.execute(sql.SQL("explain (analyze, buffers) ") + query, params)
                    for (line,) in await cur.fetchall():
                        print(f"    {line}")
    await pool.close()


def main() -> None:
    """Fill (or reuse) the database and print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200, help="timed runs per case")
    parser.add_argument("--explain", action="store_true", help="print each case's plan")
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    args = parser.parse_args()
    dsn = ensure_database(args.tickets)
    try:
        asyncio.run(bench(dsn, args.runs, args.explain))
    finally:
        if args.drop:
            with psycopg.connect(SERVER, autocommit=True) as conn:
                conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(NAME)))


if __name__ == "__main__":
    main()
