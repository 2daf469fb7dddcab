"""How fast an export of every ticket is written, and how much memory its worker uses.

    .venv/bin/python -m bench.export [--tickets 1000000] [--format csv|json] [--comments]
                                     [--reuse | --quick]

Fills ``ticketdesk_bench_N`` with ``bench/fill.py`` (or, with ``--reuse``, migrates the
one a fill left; or, with ``--quick``, loads N plain tickets of its own in one
``generate_series`` insert, each with a 1 KB description and no comments, into
``ticketdesk_bench_export_N``: minutes where a full fill at 1,000,000 takes a quarter of
an hour on an idle machine, most of it building search documents an export never reads),
asks for an export of all its tickets as the bench's admin, and runs it
in a ``ticketdesk worker`` process of its own, sampling that process's resident set size
every 20 ms. A first export of one status (about a tenth of the tickets) runs before it
in the same worker, so that the baseline includes what any first job sets up. Prints
the time from the job's start to its end, rows per second, the file's size, and the
worker's RSS: baseline, peak and growth. The export's row and file are removed at the
end; the database is left for ``--reuse``. ``BENCH_POSTGRES`` names the server (default
``postgresql://postgres@127.0.0.1:5432/postgres``).
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit
from uuid import UUID

import psutil
import psycopg
import psycopg.sql
import yaml
from bench.fill import fill
from psycopg.rows import dict_row

from ticketdesk import db
from ticketdesk.auth.service import Actor
from ticketdesk.exports import service
from ticketdesk.exports.schemas import ExportCreate
from ticketdesk.saved_views.schemas import ViewFilters

SERVER = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
MB = 1024 * 1024


async def _ask(dsn: str, body: ExportCreate) -> UUID:
    """An export asked for by the bench's admin; its job is queued with it."""
    async with await psycopg.AsyncConnection.connect(dsn, row_factory=dict_row) as conn:
        cur = await conn.execute(
            "select id, email, name, role from users where email = 'admin@bench.test'"
        )
        admin = await cur.fetchone()
        assert admin is not None, "no admin@bench.test: fill the database with bench/fill.py"
        actor = Actor(id=admin["id"], email=admin["email"], name=admin["name"], role="admin")
        async with conn.transaction():
            made = await service.create_export(conn, actor, body)
        return made.id


def _state(dsn: str, export_id: UUID) -> dict[str, object]:
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        row = conn.execute(
            "select status, rows_done, rows_total, size_bytes, error, started_at, finished_at"
            " from exports where id = %s",
            (export_id,),
        ).fetchone()
    assert row is not None
    return row


def _wait(dsn: str, export_id: UUID, worker: psutil.Process) -> tuple[dict[str, object], int]:
    """The export once ended, and the worker's highest RSS meanwhile."""
    peak = 0
    last_poll = 0.0
    while True:
        peak = max(peak, worker.memory_info().rss)
        if time.monotonic() - last_poll > 0.5:
            last_poll = time.monotonic()
            state = _state(dsn, export_id)
            if state["status"] in ("done", "failed"):
                return state, peak
        time.sleep(0.02)


_QUICK_FILL = """
insert into tickets (user_id, assigned_to_user_id, type, priority, status, title,
    description, tags, created_at, updated_at)
select case when n %% 7 = 0 then %(admin)s else %(submitter)s end,
    case when n %% 3 = 0 then %(admin)s end,
    (array['bug', 'feature', 'support'])[1 + n %% 3],
    (array['low', 'medium', 'high', 'critical'])[1 + n %% 4],
    (array['open', 'in_progress', 'waiting', 'closed', 'open', 'open', 'in_progress',
        'open', 'open', 'open'])[1 + n %% 10],
    'Bench ticket ' || n || ' about the invoice export',
    'Ticket ' || n || ': ' || repeat('the export of invoices fails again ', 29),
    case when n %% 5 = 0 then array['billing'] else '{}' end,
    timestamptz '2024-01-01' + n * interval '30 seconds',
    timestamptz '2024-01-01' + n * interval '30 seconds'
from generate_series(1, %(count)s) as n
"""


def _quick_fill(name: str, total: int) -> None:
    """A fresh, migrated database ``name`` with an admin, a submitter and ``total`` tickets
    (the search documents' trigger off while they are inserted)."""
    started = time.perf_counter()
    with psycopg.connect(SERVER, autocommit=True) as conn:
        ident = psycopg.sql.Identifier(name)
        conn.execute(psycopg.sql.SQL("drop database if exists {} with (force)").format(ident))
        conn.execute(psycopg.sql.SQL("create database {}").format(ident))
    dsn = urlsplit(SERVER)._replace(path=f"/{name}").geturl()
    asyncio.run(db.migrate(dsn))
    with psycopg.connect(dsn) as conn:
        admin, submitter = (
            conn.execute(
                "insert into users (email, name, role) values (%s, %s, %s) returning id",
                (email, name, role),
            ).fetchone()[0]  # type: ignore[index]
            for email, name, role in (
                ("admin@bench.test", "Bench Admin", "admin"),
                ("customer@bench.test", "Bench Customer", "user"),
            )
        )
        conn.execute("set local session_replication_role = replica")
        conn.execute(_QUICK_FILL, {"admin": admin, "submitter": submitter, "count": total})
        conn.execute("select setval('ticket_number_seq', %s)", (total,))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("vacuum (analyze) tickets")
    print(f"filled {name} with {total:,} tickets in {time.perf_counter() - started:.1f} s")


def main() -> None:
    """Fill (or reuse) the database, run the two exports and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    parser.add_argument("--comments", action="store_true", help="with public comments")
    fills = parser.add_mutually_exclusive_group()
    fills.add_argument("--reuse", action="store_true", help="use the database a fill left")
    fills.add_argument("--quick", action="store_true", help="plain tickets, no comments")
    args = parser.parse_args()
    name = f"ticketdesk_bench_{'export_' if args.quick else ''}{args.tickets}"
    dsn = urlsplit(SERVER)._replace(path=f"/{name}").geturl()
    if args.reuse:
        asyncio.run(db.migrate(dsn))
    elif args.quick:
        _quick_fill(name, args.tickets)
    else:
        fill(name, args.tickets, seed=1, with_events=False)
    with tempfile.TemporaryDirectory(prefix="ticketdesk-export-bench-") as scratch:
        data_dir = Path(scratch)
        config = data_dir / "worker.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "database_url": dsn,
                    "data_dir": str(data_dir),
                    "secret_key": "bench-secret-key-that-is-long-enough-0123456789",
                    "jobs": {"poll_interval_seconds": 0.1},
                }
            )
        )
        log = (data_dir / "worker.log").open("w")
        worker = subprocess.Popen(
            [sys.executable, "-m", "ticketdesk", "--config", str(config), "worker"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        made: list[UUID] = []
        try:
            process = psutil.Process(worker.pid)
            first = ExportCreate(format=args.format, filters=ViewFilters(status=["waiting"]))
            made.append(asyncio.run(_ask(dsn, first)))
            warm, _ = _wait(dsn, made[-1], process)
            assert warm["status"] == "done", warm["error"]
            baseline = process.memory_info().rss
            body = ExportCreate(format=args.format, include_comments=args.comments)
            made.append(asyncio.run(_ask(dsn, body)))
            done, peak = _wait(dsn, made[-1], process)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            log.close()
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("delete from exports where id = any(%s)", (made,))
        assert done["status"] == "done", done["error"]
        started, finished = done["started_at"], done["finished_at"]
        seconds = (finished - started).total_seconds()  # type: ignore[operator]
        rows = int(done["rows_done"])  # type: ignore[call-overload]
        size = int(done["size_bytes"])  # type: ignore[call-overload]
        what = f"{args.format}{' with comments' if args.comments else ''}"
        print(f"export of {rows:,} tickets ({what}): {seconds:.1f} s, {rows / seconds:,.0f} rows/s")
        print(f"file: {size / MB:,.0f} MB")
        print(
            f"worker RSS: baseline {baseline / MB:.1f} MB, peak {peak / MB:.1f} MB,"
            f" growth {(peak - baseline) / MB:.1f} MB"
        )


if __name__ == "__main__":
    main()
