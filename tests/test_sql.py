"""The typed query helpers, against the real database."""

from dataclasses import dataclass
from uuid import UUID

import pytest

from ticketdesk.db import Connection
from ticketdesk.sql import (
    MissingRow,
    Queries,
    execute,
    fetch_all,
    fetch_one,
    fetch_optional,
    fetch_optional_value,
    fetch_value,
    fetch_values,
)


@dataclass(frozen=True)
class Pair:
    n: int
    word: str


PAIRS = "select n, 'w' || n as word from generate_series(1, %(upto)s) n order by n"


async def test_rows_come_back_as_the_model(conn: Connection) -> None:
    assert await fetch_all(conn, Pair, PAIRS, {"upto": 2}) == [Pair(1, "w1"), Pair(2, "w2")]
    assert await fetch_one(conn, Pair, PAIRS, {"upto": 1}) == Pair(1, "w1")
    assert await fetch_optional(conn, Pair, PAIRS, {"upto": 0}) is None


async def test_a_row_that_must_exist_and_does_not(conn: Connection) -> None:
    with pytest.raises(MissingRow, match="generate_series"):
        await fetch_one(conn, Pair, PAIRS, {"upto": 0})
    with pytest.raises(MissingRow):
        await fetch_value(conn, int, "select 1 where false")


async def test_single_values_are_checked(conn: Connection) -> None:
    assert await fetch_value(conn, UUID, "select gen_random_uuid()")
    assert await fetch_values(conn, int, "select generate_series(1, 3)") == [1, 2, 3]
    assert await fetch_optional_value(conn, int, "select 1 where false") is None
    assert await fetch_optional_value(conn, int, "select null::int") is None
    with pytest.raises(TypeError, match="expected int, got str"):
        await fetch_value(conn, int, "select 'seven'")
    with pytest.raises(TypeError, match="expected int, got NoneType"):
        await fetch_value(conn, int, "select null::int")


async def test_execute_counts_the_rows_it_changed(conn: Connection) -> None:
    await execute(conn, "create temporary table scratch (n int)")
    assert await execute(conn, "insert into scratch select generate_series(1, 4)") == 4
    assert await execute(conn, "delete from scratch where n > %(n)s", {"n": 1}) == 3


def test_a_query_named_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="defined twice"):
        Queries("-- name: a\nselect 1;\n-- name: a\nselect 2;\n", "test.sql")
