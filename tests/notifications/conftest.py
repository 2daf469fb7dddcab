"""Mail tests: a real SMTP server, a real worker, bursts and retries in fractions of a second."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from tests.mailservers import SmtpServer
from tests.workers import running_worker
from ticketdesk.config import Settings

BASE_URL = "https://desk.example.com"
MAIL_FROM = "Help Desk <support@example.com>"


def mail_settings(smtp_server: SmtpServer, **notifications: Any) -> dict[str, Any]:
    """Settings overrides: mail to ``smtp_server``, short bursts, fast retries."""
    return {
        "smtp_url": smtp_server.url,
        "mail_from": MAIL_FROM,
        "base_url": BASE_URL,
        "notifications": {"burst_seconds": 0.3, **notifications},
        "jobs": {
            "retry_base_seconds": 0.1,
            "retry_cap_seconds": 0.3,
            "max_attempts": 40,
            "poll_interval_seconds": 0.1,
        },
    }


@pytest.fixture
def settings_overrides(smtp_server: SmtpServer) -> dict[str, Any]:
    """Mail on, aimed at the test's SMTP server."""
    return mail_settings(smtp_server)


@pytest.fixture
async def worker(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """A job worker on the app's pool, stopped after the test."""
    async with running_worker(app, settings):
        yield
