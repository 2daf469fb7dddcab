"""A job worker for tests: the real one, on the app's pool, while a block runs."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from ticketdesk.config import Settings
from ticketdesk.worker import run_worker, stop


@contextlib.asynccontextmanager
async def running_worker(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """Run jobs (and, with ``imap_url``, read the mailbox) until the block ends."""
    task = asyncio.create_task(
        run_worker(settings, pool=app.state.pool, install_signal_handlers=False)
    )
    try:
        yield
    finally:
        await stop(task)
