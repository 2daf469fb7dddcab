"""Faults against real processes: a PostgreSQL of the test's own that is restarted, job
workers in processes of their own that are killed, services that go away and come back.

Every module here starts and stops processes of its own, and marks itself
``xdist_group("faults")`` so that they share one xdist worker.
"""

from collections.abc import AsyncIterator

import psycopg
import pytest
from psycopg import sql

from tests.faults.cluster import DATABASE, Cluster
from ticketdesk import db


@pytest.fixture(scope="module")
async def cluster() -> AsyncIterator[Cluster]:
    """A running PostgreSQL of the module's own, with a migrated ``ticketdesk`` database;
    a test that restarts it leaves it running."""
    own = Cluster()
    try:
        own.start()
        server = psycopg.conninfo.make_conninfo(own.dsn, dbname="postgres")
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(DATABASE)))
        await db.migrate(own.dsn)
        yield own
    finally:
        own.close()
