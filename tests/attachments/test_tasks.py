"""The orphan sweep run as a job, the way a worker runs it."""

import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import procrastinate
from procrastinate.testing import InMemoryConnector

from ticketdesk import db
from ticketdesk.attachments import tasks
from ticketdesk.attachments.storage import new_key, open_storage
from ticketdesk.config import load_settings
from ticketdesk.jobs.queue import ENV_KEY, JobEnv


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_job_removes_day_old_orphans(database_url: str, tmp_path: Path) -> None:
    settings = load_settings(database_url=database_url, data_dir=tmp_path)
    storage = open_storage(settings)
    old, young = new_key(uuid.uuid4()), new_key(uuid.uuid4())
    for key in (old, young):
        await storage.write(key, _once(b"bytes whose row was never written"))
    two_days_ago = time.time() - 2 * 86400
    os.utime(tmp_path / "attachments" / old, (two_days_ago, two_days_ago))
    queue = procrastinate.App(connector=InMemoryConnector())
    task = queue.task(name=tasks.REMOVE_ORPHANS_TASK, pass_context=True)(tasks.remove_orphans)
    pool = await db.open_pool(database_url, min_size=1, max_size=2)
    try:
        async with queue.open_async():
            await task.defer_async(timestamp=int(time.time()))
            await queue.run_worker_async(
                wait=False,
                install_signal_handlers=False,
                additional_context={ENV_KEY: JobEnv(settings=settings, pool=pool)},
            )
    finally:
        await pool.close()

    remaining = [key async for batch in storage.objects() for key, _ in batch]
    assert remaining == [young]
