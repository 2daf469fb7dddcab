"""The door every change goes through: nothing is recorded without its subscribers."""

from collections.abc import Iterator

import pytest
from psycopg import AsyncConnection

from tests.factories import Accounts, create_ticket
from ticketdesk import changes, subscriptions
from ticketdesk.db import Connection


@pytest.fixture
def nobody_subscribed(accounts: Accounts) -> Iterator[Accounts]:
    """A process that forgot ``subscriptions.install()`` (after the app installed them)."""
    changes.install([])
    try:
        yield accounts
    finally:
        subscriptions.install()


async def _count(conn: AsyncConnection[dict[str, int]], table: str) -> int:
    cur = await conn.execute(f"select count(*) as n from {table}")  # noqa: S608 (fixed names)
    row = await cur.fetchone()
    assert row is not None
    return row["n"]


async def test_a_change_without_subscribers_is_refused(
    nobody_subscribed: Accounts, conn: Connection
) -> None:
    with pytest.raises(RuntimeError, match=r"subscriptions\.install\(\)"):
        await create_ticket(conn, nobody_subscribed.alice)

    assert await _count(conn, "tickets") == 0
    assert await _count(conn, "ticket_events") == 0


async def test_each_change_leaves_its_event(accounts: Accounts, conn: Connection) -> None:
    await create_ticket(conn, accounts.alice)

    assert await _count(conn, "ticket_events") == 1
