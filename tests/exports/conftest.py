"""The export tests run the real job worker on the app's pool."""

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from tests.workers import running_worker
from ticketdesk.config import Settings


@pytest.fixture
async def worker(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """A job worker, stopped after the test."""
    async with running_worker(app, settings):
        yield
