"""Fill a fresh database with N realistic tickets, their comments and timeline, for benchmarks.

    .venv/bin/python bench/fill.py --tickets 100000 [--database NAME] [--seed 1] [--no-events]

Creates the database (``ticketdesk_bench_N`` unless named; one of that name is dropped
first; dropped again if the fill fails or is interrupted), migrates it with ticketdesk's own
migration runner, then loads with ``COPY``:

- 20 agents and an admin (password ``bench-password``: the web app works), and
  submitters (N / 100, from 1,000 to 5,000), some filing far more tickets than others;
- 16 labels, on about 60 % of tickets;
- N tickets over two years, in plausible proportions: about 45 % bugs, 40 % support,
  15 % features; 55 % medium priority, 5 % critical; recent tickets mostly open or in
  progress, older ones mostly closed, resolved ones resolved in the last week (so the
  auto-close job has nothing to do), every ticket answered by staff (so escalation has
  nothing to do), 40 % of open ones unassigned;
- 1 to 5 comments each (3 on average), taking turns between staff and the submitter,
  a quarter of staff's later ones internal notes (4 % of comments); resolved and closed
  tickets end with staff's public answer; ``customer_replied_at`` and ``updated_at`` as
  the app sets them (a note moves neither; a submitter's reply moves a waiting ticket back
  to in progress);
- the timeline rows the app writes for these (``created``, ``commented``), unless
  ``--no-events``; status changes and assignments have none.

Titles, descriptions and comments are drawn from a vocabulary whose words follow a Zipf
distribution, so some words are in most tickets and thousands are in few; a title starts
with one of a few dozen help-desk phrases. A few marker words are each in exactly one
ticket (a title, a description, a public comment, an internal note); they are printed at
the end with the words for ``bench/load.py``'s searches: a common word (in about half of
the tickets), a rare one (the marker in a public comment), a word in no ticket and a
phrase (in about a third).

While loading, the secondary indexes of tickets, comments and ticket_events are dropped
(and built again afterwards from their own definitions). If the schema has a function
whose name starts with ``ticket_search`` and that takes no arguments (a search-document
backfill, such as ``ticket_search_refresh()``), the user triggers of tickets and comments
are disabled too, put back as they were after the load, and the function is called once
to do their work, and tickets compacted after it (VACUUM FULL); without one, the triggers
stay on (nothing would redo what they write). Last, VACUUM ANALYZE, so that no autovacuum
of the new rows runs into a benchmark. Each phase prints its time. ``BENCH_POSTGRES``
names the server (default ``postgresql://postgres@127.0.0.1:5432/postgres``).
"""

import argparse
import asyncio
import itertools
import json
import os
import queue
import random
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import psycopg
from argon2 import PasswordHasher
from psycopg import sql

from ticketdesk import db

SERVER = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-password"  # noqa: S105 (the staff accounts of a benchmark database)
AGENTS = 20
SPAN_SECONDS = 2 * 365 * 86400
# Tickets are generated and loaded this many at a time.
CHUNK = 10_000
TABLES = ("tickets", "comments", "ticket_events")

# The most frequent words, most frequent first; a long tail of made-up words follows them.
_COMMON_TEXT = """
the to and a of is in it when on i for not this with that we be page error after
can but from our customer again at an are as app all have user shows same report
button data account users cannot works still new now click open what time saved
save settings one email only list file screen update please field since which seems
first some see like browser load version mobile wrong team invoice empty back set
should their while there out message export up would get between order way any login
password search results them how two orders then into dashboard link before could if
just sync changes missing status used team's shown text reset they date another wait
each correct loaded slow view number form three uploaded upload download tried admin
access logged session every days team works same cache profile window account's
notification notifications displayed display times filter sorted sort column columns
line lines total price tax currency plan subscription billing charged charge refund
card payment failed fails failing crash crashes crashed freeze frozen blank spinner
loading timeout timed request requests server api token key webhook integration import
imported csv pdf excel spreadsheet attachment attachments image images photo avatar
upload size limit large small duplicate duplicated twice double missing lost deleted
delete remove removed archive archived restore restored permission permissions role
roles invite invited workspace project projects folder folders calendar schedule
meeting reminder reminders alert alerts desktop android iphone ipad tablet chrome
firefox safari edge windows macos linux keyboard shortcut dark mode theme font layout
sidebar menu dropdown modal popup tooltip scroll scrolling zoom print printing
language translation timezone locale format formatted decimal comma week month year
yesterday today morning evening hour minutes seconds customer's colleague manager
support ticket agent reply replied answer answered question questions help thanks
thank hello hi regards issue issues problem problems bug bugs feature request
suggestion improvement would nice able allow allows option options possible instead
expected actual behaviour behavior steps reproduce reproduced happens happening
happened sometimes always never randomly intermittent consistently reload refresh
restart reinstall cleared cookies logout signed sign redirect redirected loop verify
verification code sms two-factor authenticator locked unlocked expired expires expiry
trial renew renewal upgrade downgrade cancel cancelled invoice's receipt receipts vat
address shipping delivery tracking warehouse stock inventory product products catalog
item items cart checkout coupon discount
"""
COMMON = list(dict.fromkeys(_COMMON_TEXT.split()))

# A ticket's title starts with one of these.
PHRASES = """
cannot log in|password reset link|export to csv|invoice total is wrong|dark mode
|search results are empty|error message on save|page loads slowly|duplicate email
notifications|two-factor code not accepted|upload fails for large files|dashboard
shows old data|payment failed at checkout|report download times out|mobile app
crashes on start|calendar sync stopped|webhook not delivered|cannot invite team
members|session expires too soon|wrong timezone in reports|refund not received
|import from excel fails|api token rejected|attachment preview is blank|sort by date
is broken|sidebar menu overlaps content|printing cuts off the last page|feature
request: bulk edit|add an option to archive projects|allow custom fields on orders
|subscription renewal charged twice|shipping address not saved|coupon code not
applied|stock count is negative|translation missing in settings|keyboard shortcut
does nothing|notification emails arrive late|profile photo does not update|filter
resets after reload|cart empties after login
""".replace("\n", " ").split("|")

_LABELS_TEXT = """billing login export api mobile performance ui security data-loss regression
integration email reports onboarding accessibility documentation"""
LABELS = _LABELS_TEXT.split()
OSES = ["Windows", "macOS", "Linux", "iOS", "Android"]
BROWSERS = ["Chrome", "Firefox", "Safari", "Edge"]
SYLLABLES = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"] + ["ar", "en", "il", "or"]
# Each in exactly one ticket: where it is, and the ticket (a fraction of N) it is in.
MARKERS = {
    "zebracorn": ("title", 0.5),
    "quokkaflux": ("description", 1 / 3),
    "wombatrix": ("public comment", 0.25),
    "yakshaver": ("internal note", 0.2),
}
# What bench/load.py searches for: a word in most tickets, the marker in a public comment,
# a word in none, and a phrase in about a third of the tickets.
COMMON_WORD = "error"
RARE_WORD = "wombatrix"
ABSENT = "xylotrombex"
PHRASE = "password reset link"


def _weights(size: int, exponent: float = 1.15) -> list[float]:
    """Cumulative Zipf-Mandelbrot weights of ``size`` ranks."""
    return list(itertools.accumulate(1 / (rank + 2.7) ** exponent for rank in range(size)))


def _made_up_words(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    words: list[str] = []
    seen = set(taken)
    while len(words) < count:
        word = "".join(rng.choices(SYLLABLES, k=rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


class Vocabulary:
    """Words drawn by a Zipf-like law: the common words first, a made-up tail after."""

    def __init__(self, rng: random.Random, tail: int = 30_000) -> None:
        self.words = COMMON + _made_up_words(rng, tail, set(COMMON) | set(MARKERS) | {ABSENT})
        self._cumulative = _weights(len(self.words))
        self._rng = rng
        self._pool: list[str] = []
        self._next = 0

    def take(self, count: int) -> list[str]:
        """``count`` words, drawn a large batch at a time."""
        if self._next + count > len(self._pool):
            self._pool = self._rng.choices(self.words, cum_weights=self._cumulative, k=200_000)
            self._next = 0
        self._next += count
        return self._pool[self._next - count : self._next]

    def sentence(self, low: int, high: int) -> str:
        """A sentence of ``low`` to ``high`` words, capitalised, with a full stop."""
        text = " ".join(self.take(self._rng.randint(low, high)))
        return text[0].upper() + text[1:] + "."


def _uuid7(rng: random.Random, seconds: float) -> str:
    """A UUIDv7 for the time ``seconds`` (32 hex digits, which PostgreSQL accepts)."""
    rand = rng.getrandbits(74)
    value = (
        (int(seconds * 1000) << 80)
        | (0x7 << 76)
        | ((rand >> 62) << 64)
        | (0b10 << 62)
        | (rand & ((1 << 62) - 1))
    )
    return f"{value:032x}"


def _ts(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def _ts_or_null(seconds: float | None) -> str:
    return "\\N" if seconds is None else _ts(seconds)


def _copy_text(text: str) -> str:
    """``text`` escaped for COPY's text format."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


@dataclass
class People:
    """Ids of the accounts that file, answer and are assigned tickets."""

    agents: list[str]
    submitters: list[str]
    submitter_weights: list[float]


@dataclass
class Chunk:
    """COPY text for one chunk of tickets, their comments and events."""

    tickets: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)


@dataclass
class Counts:
    """What was generated, for the summary."""

    comments: int = 0
    notes: int = 0
    events: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


class Generator:
    """Tickets numbered 1 to N, oldest first, with their comments and events."""

    def __init__(
        self, rng: random.Random, vocabulary: Vocabulary, people: People, total: int, now: float
    ) -> None:
        self.rng = rng
        self.vocabulary = vocabulary
        self.people = people
        self.total = total
        self.now = now
        self.start = now - SPAN_SECONDS
        self.with_events = True
        self.counts = Counts()
        self.markers = {
            round(total * fraction) or 1: word for word, (_, fraction) in MARKERS.items()
        }
        self._submitter_cumulative = list(itertools.accumulate(people.submitter_weights))
        self._agent_cumulative = _weights(len(people.agents), 0.8)
        self._label_cumulative = _weights(len(LABELS), 0.9)

    def _status(self, number: int) -> str:
        recent = number > self.total * 0.9
        weights = (45, 20, 12, 13, 10) if recent else (8, 4, 2, 4, 82)
        status = self.rng.choices(("open", "in_progress", "waiting", "resolved", "closed"), weights)
        return status[0]

    def _title(self, marker: str | None) -> str:
        rng = self.rng
        words = self.vocabulary.take(rng.randint(2, 6))
        if marker is not None:
            words[0] = marker
        title = f"{rng.choice(PHRASES).strip()} {' '.join(words)}"
        return (title[0].upper() + title[1:])[:200]

    def _description(self, marker: str | None) -> str:
        rng = self.rng
        paragraphs = []
        for _ in range(rng.randint(1, 3)):
            count = rng.randint(1, 4)
            paragraphs.append(" ".join(self.vocabulary.sentence(5, 18) for _ in range(count)))
        if marker is not None:
            paragraphs[0] = f"{marker} {paragraphs[0]}"
        if rng.random() < 0.3 or len(paragraphs[0]) < 20:
            paragraphs.append(f"Steps: open the page, click save, see the {PHRASE} error.")
        return "\n\n".join(paragraphs)

    def _comment_body(self, marker: str | None) -> str:
        body = " ".join(self.vocabulary.sentence(4, 16) for _ in range(self.rng.randint(1, 3)))
        return f"{body} {marker}" if marker is not None else body

    def ticket(self, number: int, chunk: Chunk) -> None:
        """Append ticket ``number``, its comments and events to ``chunk``."""
        rng, people = self.rng, self.people
        created = self.start + SPAN_SECONDS * (number - rng.random()) / self.total
        ticket_id = _uuid7(rng, created)
        submitter = rng.choices(people.submitters, cum_weights=self._submitter_cumulative)[0]
        agent = rng.choices(people.agents, cum_weights=self._agent_cumulative)[0]
        status = self._status(number)
        marker = self.markers.get(number)
        where = MARKERS[marker][0] if marker else None
        kind = rng.choices(("bug", "support", "feature"), (45, 40, 15))[0]
        priority = rng.choices(("low", "medium", "high", "critical"), (20, 55, 20, 5))[0]
        title = self._title(marker if where == "title" else None)
        description = self._description(marker if where == "description" else None)

        # Comments: staff answers first, then the submitter and staff take turns; the
        # last one lands before now, within days for old tickets.
        room = min(self.now - created, 14 * 86400) * 0.95
        count = rng.choices((1, 2, 3, 4, 5), (15, 20, 30, 20, 15))[0]
        finished = status in ("resolved", "closed")
        moments = sorted(created + room * rng.random() ** 1.5 for _ in range(count))
        customer_replied: float | None = None
        last_public = created
        events = chunk.events
        if self.with_events:
            data = json.dumps({"type": kind, "priority": priority, "title": title})
            events.append(
                f"{_uuid7(rng, created)}\t{ticket_id}\t{submitter}\tcreated\t"
                f"{_copy_text(data)}\t"
                f"f\t{_ts(created)}"
            )
        staff_turn = True
        for index, moment in enumerate(moments):
            internal = staff_turn and index > 0 and rng.random() < 0.25
            author = agent if staff_turn else submitter
            comment_marker = None
            if finished and index == len(moments) - 1:
                # A resolved or closed ticket ends with staff's public answer.
                internal, author = False, agent
            if where in ("public comment", "internal note") and index == len(moments) - 1:
                internal = where == "internal note"
                author = agent if internal else author
                comment_marker = marker
            comment_id = _uuid7(rng, moment)
            stamp = _ts(moment)
            chunk.comments.append(
                f"{comment_id}\t{ticket_id}\t{author}\t{self._comment_body(comment_marker)}\t"
                f"{'t' if internal else 'f'}\t{stamp}\t{stamp}"
            )
            self.counts.comments += 1
            self.counts.notes += internal
            if not internal:
                # A submitter's reply waits for staff's next public one. A note moves
                # neither this nor updated_at: submitters would see it.
                customer_replied = (customer_replied or moment) if author == submitter else None
                last_public = moment
            if self.with_events:
                note = "true" if internal else "false"
                events.append(
                    f"{_uuid7(rng, moment)}\t{ticket_id}\t{author}\tcommented\t"
                    f'{{"comment_id": "{comment_id}", "is_internal": {note}}}\t'
                    f"{'t' if internal else 'f'}\t{stamp}"
                )
            if not internal or rng.random() < 0.5:
                staff_turn = not staff_turn
        if status == "waiting" and customer_replied is not None:
            # The submitter's reply sends a waiting ticket back to the agents.
            status = "in_progress"
        last = moments[-1]
        resolved_at: float | None = None
        closed_at: float | None = None
        if status == "resolved":
            resolved_at = max(last, self.now - rng.uniform(0, 6 * 86400))
            resolved_at = min(resolved_at, self.now)
        elif status == "closed":
            resolved_at = last + rng.uniform(0, 3600)
            closed_at = min(resolved_at + 7 * 86400, self.now)
            resolved_at = min(resolved_at, closed_at)
        updated = max(last_public, closed_at or resolved_at or last_public)
        assignee = agent if status != "open" or rng.random() < 0.6 else None
        tags = rng.choices(
            LABELS, cum_weights=self._label_cumulative, k=rng.choice((0, 0, 1, 1, 2))
        )
        metadata = json.dumps(
            {
                "os": rng.choice(OSES),
                "browser": rng.choice(BROWSERS),
                "app_version": f"4.{rng.randint(0, 12)}.{rng.randint(0, 9)}",
            }
        )
        chunk.tickets.append(
            "\t".join(
                (
                    ticket_id,
                    str(number),
                    submitter,
                    kind,
                    priority,
                    status,
                    title,
                    _copy_text(description),
                    assignee or "\\N",
                    "{" + ",".join(sorted(set(tags))) + "}",
                    _copy_text(metadata),
                    str(1 + count // 2),
                    _ts(created),
                    _ts(updated),
                    _ts_or_null(resolved_at),
                    _ts_or_null(closed_at),
                    _ts_or_null(customer_replied),
                )
            )
        )
        self.counts.by_status[status] = self.counts.by_status.get(status, 0) + 1
        self.counts.events += (1 + count) if self.with_events else 0

    def chunks(self) -> Iterator[Chunk]:
        """The tickets, ``CHUNK`` at a time."""
        for first in range(1, self.total + 1, CHUNK):
            chunk = Chunk()
            for number in range(first, min(first + CHUNK, self.total + 1)):
                self.ticket(number, chunk)
            yield chunk


TICKET_COLUMNS = (
    "id, number, user_id, type, priority, status, title, description, assigned_to_user_id,"
    " tags, metadata, version, created_at, updated_at, resolved_at, closed_at,"
    " customer_replied_at"
)
COMMENT_COLUMNS = "id, ticket_id, author_id, body, is_internal, created_at, updated_at"
EVENT_COLUMNS = "id, ticket_id, actor_id, kind, data, is_internal, created_at"


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Print how long the block took."""
    started = time.perf_counter()
    yield
    print(f"  {name:<32} {time.perf_counter() - started:7.1f} s", flush=True)


def _people(conn: psycopg.Connection[tuple[object, ...]], rng: random.Random, total: int) -> People:
    """COPY the staff, the submitters and the labels."""
    now = time.time()
    joined = now - SPAN_SECONDS - 86400
    password_hash = PasswordHasher().hash(PASSWORD)
    submitter_count = max(1000, min(5000, total // 100))
    rows: list[tuple[str, str, str, str, str | None]] = [
        (_uuid7(rng, joined), "admin@bench.test", "Bench Admin", "admin", password_hash)
    ]
    agents = [
        (_uuid7(rng, joined), f"agent{n:02}@bench.test", f"Agent {n:02}", "agent", password_hash)
        for n in range(1, AGENTS + 1)
    ]
    submitters = [
        (_uuid7(rng, joined), f"user{n:04}@customer.test", f"Customer {n:04}", "user", None)
        for n in range(1, submitter_count + 1)
    ]
    with conn.cursor().copy(
        "copy users (id, email, name, role, password_hash, created_at, updated_at,"
        " email_verified_at) from stdin"
    ) as copy:
        for row in rows + agents + submitters:
            copy.write_row((*row, _ts(joined), _ts(joined), _ts(joined)))
    with conn.cursor().copy("copy labels (name, color) from stdin") as copy:
        for name in LABELS:
            copy.write_row((name, f"#{rng.randrange(0x1000000):06x}"))
    # Some customers file far more tickets than others.
    weights = [1 / (rank + 1) ** 0.6 for rank in range(submitter_count)]
    return People([a[0] for a in agents], [s[0] for s in submitters], weights)


def _secondary_indexes(conn: psycopg.Connection[tuple[object, ...]]) -> list[tuple[str, str]]:
    """``(name, definition)`` of the indexes of TABLES that no constraint owns."""
    cur = conn.execute(
        "select i.indexname, i.indexdef from pg_indexes i"
        " where i.schemaname = 'public' and i.tablename = any(%s)"
        " and not exists (select 1 from pg_constraint c where c.conname = i.indexname)",
        (list(TABLES),),
    )
    return [(str(name), str(definition)) for name, definition in cur.fetchall()]


# How to put back a trigger, by its pg_trigger.tgenabled: on, on for replication only, always.
_ENABLE = {
    "O": "alter table {} enable trigger {}",
    "R": "alter table {} enable replica trigger {}",
    "A": "alter table {} enable always trigger {}",
}


def _enabled_triggers(conn: psycopg.Connection[tuple[object, ...]]) -> list[tuple[str, str, str]]:
    """``(table, trigger, tgenabled)`` of the enabled user triggers of tickets and comments."""
    cur = conn.execute(
        "select c.relname, t.tgname, t.tgenabled from pg_trigger t"
        " join pg_class c on c.oid = t.tgrelid"
        " where c.relnamespace = 'public'::regnamespace and c.relname in ('tickets', 'comments')"
        " and not t.tgisinternal and t.tgenabled <> 'D'"
        " order by c.relname, t.tgname"
    )
    return [(str(table), str(name), str(state)) for table, name, state in cur.fetchall()]


def _search_refresh(conn: psycopg.Connection[tuple[object, ...]]) -> sql.Composed | None:
    """The call of the search-document backfill: a function (or procedure) named
    ``ticket_search…`` that takes no arguments and is no trigger; ``None`` when the
    schema has none."""
    cur = conn.execute(
        "select p.proname, p.prokind from pg_proc p"
        " join pg_namespace n on n.oid = p.pronamespace"
        " where n.nspname = 'public' and p.proname like 'ticket\\_search%'"
        " and p.pronargs = p.pronargdefaults and p.prorettype <> 'trigger'::regtype"
        " order by (p.proname like '%refresh%') desc, p.proname"
    )
    found = [(str(name), str(kind)) for name, kind in cur.fetchall()]
    if len(found) > 1:
        print(f"  several candidates: {', '.join(name for name, _ in found)}")
    if not found:
        return None
    name, kind = found[0]
    verb = "call {}()" if kind == "p" else "select {}()"
    return sql.SQL(verb).format(sql.Identifier(name))


def _without_password(dsn: str) -> str:
    """``dsn`` with its password, if it has one, shown as ``***``."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()


@contextmanager
def _dropped_on_failure(name: str) -> Iterator[None]:
    """Drop database ``name`` if the block fails: half filled, with indexes missing or
    triggers off, it would mislead whoever benchmarks it."""
    try:
        yield
    except BaseException:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )
        print(f"the fill did not finish: {name} dropped", file=sys.stderr)
        raise


def _load(dsn: str, generator: Generator) -> None:
    """COPY the tickets, comments and events, generated in a thread meanwhile."""
    chunks: queue.Queue[Chunk | None] = queue.Queue(maxsize=2)

    def produce() -> None:
        for chunk in generator.chunks():
            chunks.put(chunk)
        chunks.put(None)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    copies = (
        ("tickets", TICKET_COLUMNS, "tickets"),
        ("comments", COMMENT_COLUMNS, "comments"),
        ("ticket_events", EVENT_COLUMNS, "events"),
    )
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("set synchronous_commit = off")
        loaded = 0
        while (chunk := chunks.get()) is not None:
            for table, columns, attribute in copies:
                lines: list[str] = getattr(chunk, attribute)
                if not lines:
                    continue
                with conn.cursor().copy(f"copy {table} ({columns}) from stdin") as copy:
                    for start in range(0, len(lines), 2000):
                        copy.write("\n".join(lines[start : start + 2000]) + "\n")
            loaded += len(chunk.tickets)
            if loaded % (CHUNK * 10) == 0:
                print(f"    {loaded:,} tickets", flush=True)
    producer.join()


def fill(name: str, total: int, seed: int, with_events: bool) -> None:
    """Create, migrate and fill database ``name``, printing each phase's time."""
    dsn = urlsplit(SERVER)._replace(path=f"/{name}").geturl()
    rng = random.Random(seed)
    started = time.perf_counter()
    print(f"filling {name} with {total:,} tickets")
    with phase("create and migrate"):
        with psycopg.connect(SERVER, autocommit=True) as conn:
            ident = sql.Identifier(name)
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(ident))
            conn.execute(sql.SQL("create database {}").format(ident))
        with _dropped_on_failure(name):
            asyncio.run(db.migrate(dsn))
    with _dropped_on_failure(name), psycopg.connect(dsn, autocommit=True) as conn:
        with phase("users and labels"):
            people = _people(conn, rng, total)
        refresh = _search_refresh(conn)
        triggers = _enabled_triggers(conn) if refresh is not None else []
        with phase(f"{len(triggers)} triggers off, indexes dropped"):
            for table, trigger, _ in triggers:
                conn.execute(
                    sql.SQL("alter table {} disable trigger {}").format(
                        sql.Identifier(table), sql.Identifier(trigger)
                    )
                )
            indexes = _secondary_indexes(conn)
            for index, _ in indexes:
                conn.execute(sql.SQL("drop index {}").format(sql.Identifier(index)))
        with phase("vocabulary"):
            vocabulary = Vocabulary(rng)
            generator = Generator(rng, vocabulary, people, total, time.time())
            generator.with_events = with_events
        with phase("copy tickets, comments, events"):
            _load(dsn, generator)
            conn.execute("select setval('ticket_number_seq', %s)", (total,))
        with phase(f"{len(indexes)} indexes built"):
            conn.execute("set maintenance_work_mem = '512MB'")
            for _, definition in indexes:
                conn.execute(definition)  # a definition read from pg_indexes
        with phase(f"{len(triggers)} triggers on"):
            for table, trigger, state in triggers:
                conn.execute(
                    sql.SQL(_ENABLE[state]).format(sql.Identifier(table), sql.Identifier(trigger))
                )
        if refresh is None:
            print(f"  {'search documents':<32} skipped: no ticket_search… function")
        else:
            with phase(refresh.as_string(conn)):
                conn.execute(refresh)
            # The backfill wrote every ticket again: compact the table and its indexes, or
            # reads would cross the old rows' space (at 100,000 tickets the indexes were 40 %
            # larger).
            with phase("vacuum full tickets"):
                conn.execute("vacuum (full) tickets")
        with phase("vacuum analyze"):
            conn.execute("vacuum (analyze)")
        sizes = conn.execute(
            "select pg_size_pretty(pg_database_size(current_database()))"
        ).fetchone()
    counts = generator.counts
    print(f"  {'total':<32} {time.perf_counter() - started:7.1f} s")
    print()
    statuses = ", ".join(f"{s} {n / total:.0%}" for s, n in sorted(counts.by_status.items()))
    print(f"tickets {total:,} ({statuses})")
    print(
        f"comments {counts.comments:,} ({counts.notes:,} internal notes), events {counts.events:,}"
    )
    print(
        f"users {1 + AGENTS + len(people.submitters):,}, database size {sizes[0] if sizes else '?'}"
    )
    shown = _without_password(dsn)
    print(f"database: {shown}")
    print(
        "a token:  DATABASE_URL=" + shown + " .venv/bin/ticketdesk token create"
        " --email admin@bench.test --name bench"
    )
    print()
    for word, (where, fraction) in MARKERS.items():
        number = round(total * fraction) or 1
        print(f"marker {word!r}: in one ticket, #{number}'s {where}")
    words = {"common": COMMON_WORD, "rare": RARE_WORD, "absent": ABSENT, "phrase": PHRASE}
    print("search words: " + json.dumps(words))


def main() -> None:
    """Parse the command line and fill the database."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--database", help="default: ticketdesk_bench_<N>")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-events", action="store_true", help="load no ticket_events rows")
    args = parser.parse_args()
    name = args.database or f"ticketdesk_bench_{args.tickets}"
    fill(name, args.tickets, args.seed, with_events=not args.no_events)


if __name__ == "__main__":
    main()
