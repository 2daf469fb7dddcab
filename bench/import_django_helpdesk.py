"""How long importing a django-helpdesk of N tickets takes: reading its database, the dry
run and the import, as `ticketdesk import django-helpdesk --database-url` runs them.

Makes two databases of its own (created afresh, dropped at the end): a django-helpdesk
one, built by django-helpdesk's own migrations (the test site of tests/imports, so
requirements-dev.txt must be installed) and filled through its models: 4 queues, 20 staff,
N tickets from 500 submitters, three follow-ups each (the submitter's, a staff internal
note, a staff answer) — and a ticketdesk one with an admin. Prints the seconds each step
took and tickets a second.

    .venv/bin/python bench/import_django_helpdesk.py [--tickets 5000]

Uses BENCH_DATABASE_URL's server (default: postgres on 127.0.0.1:5432).
"""

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ticketdesk import db, subscriptions
from ticketdesk.imports import django_helpdesk
from ticketdesk.users.service import create_user

SERVER = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
HELPDESK = "ticketdesk_bench_helpdesk"
TICKETDESK = "ticketdesk_bench_helpdesk_import"
ROOT = Path(__file__).parent.parent

# Run in django-helpdesk's own Django: its models fill its tables.
FILL = """
import sys
from datetime import UTC, datetime, timedelta

import django

django.setup()
from django.contrib.auth.models import User
from helpdesk.models import FollowUp, Queue, Ticket

count = int(sys.argv[1])
staff = User.objects.bulk_create(
    User(username=f"staff{n}", email=f"staff{n}@helpdesk.example", first_name="Staff",
         last_name=f"Member {n}", is_staff=True)
    for n in range(20)
)
queues = [Queue.objects.create(title=f"Queue {n}", slug=f"queue-{n}") for n in range(4)]
start = datetime(2024, 1, 1, tzinfo=UTC)
tickets = Ticket.objects.bulk_create(
    Ticket(
        title=f"Printer number {n} jams on every page",
        queue=queues[n % 4],
        created=start + timedelta(minutes=10 * n),
        modified=start + timedelta(minutes=10 * n, hours=4),
        submitter_email=f"customer{n % 500}@customer.example",
        assigned_to=staff[n % 20] if n % 2 else None,
        status=1 + n % 5,
        priority=1 + n % 5,
        description=f"The printer number {n} on floor 3 jams on every second page.",
    )
    for n in range(count)
)
FollowUp.objects.bulk_create(
    FollowUp(
        ticket=ticket,
        date=ticket.created + timedelta(hours=k),
        comment=("It jams on duplex jobs too.", "Known firmware fault; not for the customer.",
                 "A technician comes tomorrow.")[k - 1],
        public=k != 2,
        user=staff[ticket.pk % 20] if k > 1 else None,
    )
    for ticket in tickets
    for k in (1, 2, 3)
)
"""


def _helpdesk(url: str, tickets: int) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.imports.django_helpdesk_site.settings",
        "HELPDESK_DATABASE_URL": url,
    }
    for args in (["-m", "django", "migrate", "--noinput", "-v", "0"], ["-c", FILL, str(tickets)]):
        subprocess.run([sys.executable, *args], cwd=ROOT, env=env, check=True)


async def run(helpdesk_url: str, dsn: str, tickets: int) -> None:
    subscriptions.install()
    async with await psycopg.AsyncConnection.connect(dsn, row_factory=dict_row) as conn:
        async with conn.transaction():
            await create_user(
                conn,
                email="admin@bench.example",
                name="Admin",
                role="admin",
                password=None,
                internal_domains=(),
            )
        started = time.perf_counter()
        helpdesk = await django_helpdesk.read_database(helpdesk_url)
        took = time.perf_counter() - started
        print(f"{tickets} tickets, {3 * tickets} follow-ups")
        print(f"read     {took:7.1f} s  {tickets / took:7.0f} tickets/s")
        for dry_run in (True, False):
            started = time.perf_counter()
            async with conn.transaction(force_rollback=dry_run):
                outcome = await django_helpdesk.run(
                    conn,
                    helpdesk,
                    admin_email="admin@bench.example",
                    internal_domains=[],
                    dry_run=dry_run,
                )
            took = time.perf_counter() - started
            step = "dry run" if dry_run else "import"
            print(
                f"{step:8} {took:7.1f} s  {tickets / took:7.0f} tickets/s"
                f"  ({outcome.failing_rows} failing, {outcome.would_create} tickets)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=5000)
    args = parser.parse_args()
    urls = {
        name: psycopg.conninfo.make_conninfo(SERVER, dbname=name) for name in (HELPDESK, TICKETDESK)
    }
    with psycopg.connect(SERVER, autocommit=True) as conn:
        for name in urls:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        _helpdesk(urls[HELPDESK], args.tickets)
        asyncio.run(db.migrate(urls[TICKETDESK]))
        asyncio.run(run(urls[HELPDESK], urls[TICKETDESK], args.tickets))
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            for name in urls:
                conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
