"""What keeping the reports' rollups costs concurrent ticket creation.

    .venv/bin/python bench/reports_contention.py [--clients 8] [--seconds 20]

Every new ticket adds rows of its own for the reports (``reports.service.on_change``),
which no other change waits on, and reads what it counted in so far. This creates
tickets through ``tickets.service.create_ticket`` from ``--clients`` connections at once
for ``--seconds``, first with every change subscriber (``subscriptions.SUBSCRIBERS``) and
then with all of them but the reports', and prints tickets created a second for each. It
uses a database of its own, ``ticketdesk_bench_contention``, dropped at the end;
``BENCH_POSTGRES`` names the server.
"""

import argparse
import asyncio
import os
import time
from urllib.parse import urlsplit

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ticketdesk import changes, db, subscriptions
from ticketdesk.auth.service import Actor
from ticketdesk.reports import service as reports
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.schemas import TicketCreate
from ticketdesk.users.service import create_user

SERVER = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
NAME = "ticketdesk_bench_contention"
BODY = TicketCreate(
    type="bug",
    priority="medium",
    title="Checkout fails",
    description="It happens every time the invoice is opened.",
)


async def _actor(dsn: str) -> Actor:
    async with await psycopg.AsyncConnection.connect(dsn, row_factory=dict_row) as conn:
        user = await create_user(
            conn,
            email="bench@example.com",
            name="Bench",
            role="user",
            password=None,
            internal_domains=(),
        )
        await conn.commit()
    return Actor(id=user.id, email=user.email, name=user.name, role=user.role)


async def _client(dsn: str, actor: Actor, until: float) -> int:
    made = 0
    async with await psycopg.AsyncConnection.connect(dsn, row_factory=dict_row) as conn:
        while time.perf_counter() < until:
            async with conn.transaction():
                await tickets.create_ticket(conn, actor, BODY, idempotency_key=None)
            made += 1
    return made


async def _run(dsn: str, actor: Actor, clients: int, seconds: float) -> float:
    until = time.perf_counter() + seconds
    made = await asyncio.gather(*(_client(dsn, actor, until) for _ in range(clients)))
    return sum(made) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    dsn = urlsplit(SERVER)._replace(path=f"/{NAME}").geturl()
    ident = sql.Identifier(NAME)
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(ident))
        conn.execute(sql.SQL("create database {}").format(ident))
    try:
        asyncio.run(db.migrate(dsn))
        actor = asyncio.run(_actor(dsn))
        without = tuple(s for s in subscriptions.SUBSCRIBERS if s is not reports.on_change)
        for label, subscribers in (
            ("with the reports", subscriptions.SUBSCRIBERS),
            ("without the reports", without),
            ("with the reports, again", subscriptions.SUBSCRIBERS),
        ):
            changes.install(subscribers)
            rate = asyncio.run(_run(dsn, actor, args.clients, args.seconds))
            print(f"{args.clients} clients {label:<24} {rate:8.1f} tickets/s")
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(ident))


if __name__ == "__main__":
    main()
