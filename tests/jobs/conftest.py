"""Jobs are exercised through the one task ticketdesk has: syncing with a fake GitHub."""

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from tests.github.conftest import settings_overrides
from tests.workers import running_worker
from ticketdesk.config import Settings

__all__ = ["settings_overrides"]  # the GitHub suite's settings serve here too


@pytest.fixture
async def worker(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """A job worker on the app's pool, stopped after the test."""
    async with running_worker(app, settings):
        yield
