"""``log_format: json``: one JSON object a line, and one line a request.

The app is driven as in the other tests; its records are written with the formatter
``ticketdesk serve`` uses in JSON mode, and read back as a log shipper reads them.
"""

import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from httpx import AsyncClient

from tests.factories import PASSWORD, Accounts
from ticketdesk.telemetry import JsonFormatter

# The test's own HTTP client, whose records tell what it sent.
TEST_CLIENT_LOGGERS = ("httpx", "httpcore")


class _Lines(logging.Handler):
    """Every record the app makes, formatted as JSON, one line each."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(TEST_CLIENT_LOGGERS):
            self.lines.append(self.format(record))

    def requests(self) -> list[dict[str, Any]]:
        """The request lines, parsed."""
        parsed = [json.loads(line) for line in self.lines]
        return [entry for entry in parsed if entry["logger"] == "ticketdesk.access"]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """JSON logs."""
    return {"log_format": "json"}


@pytest.fixture
def lines() -> Iterator[_Lines]:
    """What the app logs, as JSON lines."""
    handler = _Lines()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


async def test_one_line_a_request(lines: _Lines, anon: AsyncClient, accounts: Accounts) -> None:
    admin = accounts.admin
    signed_in = await admin.client.get("/api/v1/labels", headers={"X-Request-ID": "req-0123456789"})
    anonymous = await anon.get("/api/v1/me")

    assert signed_in.status_code == 200, signed_in.text
    assert anonymous.status_code == 401
    assert all(line.count("\n") == 0 for line in lines.lines)
    [mine] = [r for r in lines.requests() if r["request_id"] == "req-0123456789"]
    assert mine["request_id"] == signed_in.headers["X-Request-ID"]
    assert mine["level"] == "INFO"
    assert mine["time"].endswith("Z")
    assert mine["method"] == "GET"
    assert mine["route"] == "/api/v1/labels"
    assert mine["path"] == "/api/v1/labels"
    assert mine["status"] == 200
    assert isinstance(mine["duration_ms"], float)
    assert mine["user_id"] == str(admin.user.id)
    assert mine["client"] == "127.0.0.1"
    assert mine["message"] == "GET /api/v1/labels 200"
    [theirs] = [r for r in lines.requests() if r["request_id"] == anonymous.headers["X-Request-ID"]]
    assert (theirs["route"], theirs["status"], theirs["user_id"]) == ("/api/v1/me", 401, None)
    # Who signed in is told by id only.
    assert admin.user.email not in "\n".join(lines.lines)


async def test_a_session_is_told_by_its_user_id(
    lines: _Lines, anon: AsyncClient, accounts: Accounts
) -> None:
    alice = accounts.alice.user
    login = await anon.post("/api/v1/auth/login", json={"email": alice.email, "password": PASSWORD})
    assert login.status_code == 200, login.text

    me = await anon.get("/api/v1/me")

    assert me.status_code == 200, me.text
    [entry] = [r for r in lines.requests() if r["request_id"] == me.headers["X-Request-ID"]]
    assert (entry["route"], entry["user_id"]) == ("/api/v1/me", str(alice.id))
    logged = "\n".join(lines.lines)
    assert alice.email not in logged
    assert PASSWORD not in logged


async def test_a_secret_in_the_path_is_not_logged(lines: _Lines, anon: AsyncClient) -> None:
    secret = "unsubscribe-secret-0123456789abcdef"

    await anon.get(f"/api/v1/notifications/unsubscribe/{secret}")

    [entry] = [r for r in lines.requests() if "unsubscribe" in r["path"]]
    assert entry["path"] == "/api/v1/notifications/unsubscribe/…"
    assert entry["route"] == "/api/v1/notifications/unsubscribe/{token}"
    assert secret not in "\n".join(lines.lines)


def test_any_record_is_one_json_line_with_its_traceback() -> None:
    logger = logging.getLogger("ticketdesk.tests")
    try:
        raise ValueError("bad value")
    except ValueError:
        record = logger.makeRecord(
            logger.name, logging.ERROR, __file__, 1, "failed: %s", ("x",), sys.exc_info()
        )

    line = JsonFormatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "failed: x"
    assert (entry["level"], entry["logger"]) == ("ERROR", "ticketdesk.tests")
    assert entry["exc_info"].startswith("Traceback (most recent call last):")
    assert entry["exc_info"].endswith("ValueError: bad value")
