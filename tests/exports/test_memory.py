"""A 100,000-ticket export, written by a ``ticketdesk worker`` process of its own whose
resident memory is sampled throughout.

The file is about 115 MB (each ticket's description is 1 KB), so a worker that held the
export, or even half of it, would grow by more than the bound. What a streaming export
may hold: one batch of 500 tickets and its encoding (about 1 MB of text, a few MB as
Python objects) and the store's multipart upload, two parts of 5 MB in flight plus the
part being filled (about 15 MB). 60 MB leaves room for the allocator keeping freed
memory and for the store's threads; the baseline is taken after a first, smaller export
has run in the same process, so that one-off start-up costs (the store's runtime, the
queries' first plans) are not counted as growth.
"""

import asyncio
import csv
import io
from pathlib import Path
from typing import Any

import psutil
from httpx import AsyncClient

from tests.exports.support import EXPORTS, create
from tests.factories import Accounts
from tests.faults.processes import Worker, write_config
from ticketdesk.config import Settings
from ticketdesk.db import Connection

TICKETS = 100_000
# Every 100th ticket is waiting: the first, smaller export's.
WAITING = TICKETS // 100
DESCRIPTION_BYTES = 1000
RSS_GROWTH_BOUND = 60 * 1024 * 1024
# The API is asked every 10th RSS sample (every 0.2 s).
POLLS_PER_ASK = 10

_FILL = """
insert into tickets (user_id, type, priority, status, title, description, tags, created_at,
    updated_at)
select %(user_id)s,
    (array['bug', 'feature', 'support'])[1 + n %% 3],
    (array['low', 'medium', 'high', 'critical'])[1 + n %% 4],
    case when n %% 100 = 0 then 'waiting' else 'open' end,
    'Generated ticket ' || n,
    'Ticket ' || n || ': ' || repeat('x', %(padding)s),
    array['load'],
    timestamptz '2025-01-01' + n * interval '1 second',
    timestamptz '2025-01-01' + n * interval '1 second'
from generate_series(1, %(count)s) as n
"""


async def _fill(conn: Connection, user_id: object) -> None:
    """100,000 tickets in one statement, without the search documents' trigger (the
    export reads no search document; computing them would take most of a minute)."""
    async with conn.transaction():
        await conn.execute("set local session_replication_role = replica")
        await conn.execute(
            _FILL, {"user_id": user_id, "count": TICKETS, "padding": DESCRIPTION_BYTES}
        )


async def _run(
    client: AsyncClient, export_id: str, worker: psutil.Process
) -> tuple[dict[str, Any], int, list[int]]:
    """Wait for an export, sampling the worker's RSS every 20 ms and asking the API how
    far it has come every ``POLLS_PER_ASK`` samples (a request costs the CPU the worker
    needs; a sample costs next to nothing): the export when it ended, the highest RSS
    seen and the rows_done seen while it ran."""
    peak = 0
    progress: list[int] = []
    async with asyncio.timeout(300):
        sample = 0
        while True:
            peak = max(peak, worker.memory_info().rss)
            if sample % POLLS_PER_ASK == 0:
                found = (await client.get(f"{EXPORTS}/{export_id}")).json()
                if found["status"] in ("done", "failed"):
                    return found, max(peak, worker.memory_info().rss), progress
                if found["status"] == "running":
                    progress.append(found["rows_done"])
            sample += 1
            await asyncio.sleep(0.02)


async def test_100k_tickets_in_bounded_memory(
    accounts: Accounts, settings: Settings, conn: Connection, tmp_path: Path
) -> None:
    await _fill(conn, accounts.alice.user.id)
    config = write_config(
        tmp_path / "worker.yaml", settings.database_url or "", settings.data_dir, {}
    )
    worker = Worker(config, tmp_path / "worker.log")
    try:
        process = psutil.Process(worker.process.pid)
        first = await create(accounts.agent.client, filters={"status": ["waiting"]})
        warmed, _, _ = await _run(accounts.agent.client, first["id"], process)
        assert (warmed["status"], warmed["rows_done"]) == ("done", WAITING)
        baseline = process.memory_info().rss

        made = await create(accounts.agent.client)
        done, peak, progress = await _run(accounts.agent.client, made["id"], process)
    finally:
        worker.stop()

    assert done["status"] == "done", done["error"]
    assert (done["rows_total"], done["rows_done"]) == (TICKETS, TICKETS)
    assert done["size_bytes"] > RSS_GROWTH_BOUND
    assert peak - baseline < RSS_GROWTH_BOUND, (baseline, peak)
    # Progress was seen moving while it ran.
    moving = [rows for rows in progress if 0 < rows < TICKETS]
    assert len(set(moving)) >= 3
    assert moving == sorted(moving)
    response = await accounts.agent.client.get(f"{EXPORTS}/{made['id']}/download")
    assert len(response.content) == done["size_bytes"]
    rows = csv.DictReader(io.StringIO(response.text, newline=""))
    count = 0
    for n, row in enumerate(rows, start=1):
        assert row["number"] == str(n)
        assert row["title"] == f"Generated ticket {n}"
        assert row["status"] == ("waiting" if n % 100 == 0 else "open")
        assert row["submitter_email"] == accounts.alice.user.email
        assert row["description"] == f"Ticket {n}: " + "x" * DESCRIPTION_BYTES
        count = n
    assert count == TICKETS
