"""How long a CSV import of N rows takes: the upload, the dry run and the apply, each in
one transaction, as the API runs them (`imports.csv_files`).

Makes a database of its own (`ticketdesk_bench_import`, created afresh and dropped at
the end), an admin, an agent and two labels, and a file of N tickets from 500
submitters (none of whom has an account: the import creates them), each with an
external id, a priority word mapped by the mapping, labels, an assignee, a creation
time and every fifth one resolved. Prints the seconds each step took and rows a second.

    .venv/bin/python bench/import_csv.py [--rows 5000]

Uses BENCH_DATABASE_URL's server (default: postgres on 127.0.0.1:5432).
"""

import argparse
import asyncio
import csv
import io
import os
import time

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ticketdesk import db, subscriptions
from ticketdesk.imports import csv_files
from ticketdesk.imports.schemas import ImportMapping
from ticketdesk.labels import service as labels
from ticketdesk.labels.schemas import LabelCreate
from ticketdesk.users.service import create_user

SERVER = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NAME = "ticketdesk_bench_import"
MAPPING = ImportMapping.model_validate(
    {
        "columns": {
            "Id": "external_id",
            "Subject": "title",
            "Body": "description",
            "From": "submitter_email",
            "Owner": "assignee_email",
            "Priority": "priority",
            "State": "status",
            "Tags": "labels",
            "Opened": "created_at",
            "Closed": "resolved_at",
        },
        "values": {"priority": {"Urgent": "critical"}, "status": {"Done": "resolved"}},
    }
)


def _file(rows: int, agent: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(MAPPING.columns)
    for n in range(rows):
        done = n % 5 == 0
        writer.writerow(
            [
                f"OLD-{n}",
                f"Printer number {n} jams on every page",
                f"The printer number {n} on floor 3 jams on every second page since Monday.",
                f"customer{n % 500}@customer.example",
                agent if n % 2 else "",
                ("Urgent", "high", "low", "medium")[n % 4],
                "Done" if done else "open",
                "hardware,printers" if n % 3 else "",
                f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}T09:00:00Z",
                f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}T17:00:00Z" if done else "",
            ]
        )
    return out.getvalue().encode()


async def run(dsn: str, rows: int) -> None:
    subscriptions.install()
    async with await psycopg.AsyncConnection.connect(dsn, row_factory=dict_row) as conn:
        async with conn.transaction():
            admin = await create_user(
                conn,
                email="admin@bench.example",
                name="Admin",
                role="admin",
                password=None,
                internal_domains=(),
            )
            agent = await create_user(
                conn,
                email="agent@bench.example",
                name="Agent",
                role="agent",
                password=None,
                internal_domains=(),
            )
            for name in ("hardware", "printers"):
                await labels.create_label(conn, LabelCreate(name=name))
        data = _file(rows, agent.email)
        print(f"{rows} rows, {len(data) / 1e6:.1f} MB")
        started = time.perf_counter()
        async with conn.transaction():
            upload = await csv_files.upload(conn, actor_id=admin.id, filename="b.csv", data=data)
        print(f"upload   {time.perf_counter() - started:7.1f} s")
        started = time.perf_counter()
        async with conn.transaction():
            dry = await csv_files.dry_run(conn, upload.id, MAPPING, internal_domains=[])
        took = time.perf_counter() - started
        print(f"dry run  {took:7.1f} s  {rows / took:7.0f} rows/s  ({len(dry.errors)} errors)")
        started = time.perf_counter()
        async with conn.transaction():
            applied = await csv_files.apply(
                conn, upload.id, MAPPING, actor_id=admin.id, internal_domains=[]
            )
        took = time.perf_counter() - started
        assert applied.result is not None
        print(
            f"apply    {took:7.1f} s  {rows / took:7.0f} rows/s  ({applied.result.created} tickets)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()
    dsn = psycopg.conninfo.make_conninfo(SERVER, dbname=NAME)
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(NAME))
        )
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(NAME)))
    try:
        asyncio.run(db.migrate(dsn))
        asyncio.run(run(dsn, args.rows))
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(NAME)))


if __name__ == "__main__":
    main()
