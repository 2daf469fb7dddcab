"""Webhook tests: a real HTTP receiver on 127.0.0.1, a real worker, retries in fractions
of a second."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from tests.workers import running_worker
from ticketdesk.config import Settings

BASE_URL = "https://desk.example.com"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """The receiver is on 127.0.0.1: private targets allowed; quick retries and timeouts."""
    return {
        "base_url": BASE_URL,
        "webhooks": {
            "allow_private_targets": True,
            "retry_base_seconds": 0.05,
            "retry_cap_seconds": 0.2,
            "max_attempts": 3,
            "timeout_seconds": 1.0,
        },
        "jobs": {"poll_interval_seconds": 0.1},
    }


@pytest.fixture
async def worker(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """A job worker on the app's pool, stopped after the test."""
    async with running_worker(app, settings):
        yield
