"""Jobs are exercised through the one task ticketdesk has: syncing with a fake GitHub."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from tests.github.conftest import gh, settings_overrides
from ticketdesk.config import Settings
from ticketdesk.worker import run_worker

__all__ = ["gh", "settings_overrides"]  # the GitHub suite's fixtures serve here too


@pytest.fixture
async def worker(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """A job worker on the app's pool, stopped after the test."""
    task = asyncio.create_task(
        run_worker(settings, pool=app.state.pool, install_signal_handlers=False)
    )
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
