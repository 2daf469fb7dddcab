"""Jobs are exercised through the one task ticketdesk has: syncing with a fake GitHub."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from tests.fakes.github import FakeGitHub
from tests.github.support import github_settings
from ticketdesk.config import Settings
from ticketdesk.jobs.worker import run_worker


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    """A running fake GitHub."""
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture
def settings_overrides(gh: FakeGitHub) -> dict[str, Any]:
    """The GitHub integration on (so new tickets queue a job), fast retries."""
    return github_settings(gh)


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
