"""`ticketdesk serve` stops at once with event streams open, as uvicorn alone would not."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.factories import make_user
from tests.mailservers import free_port
from ticketdesk.auth import service as auth
from ticketdesk.db import Connection

SECRET_KEY = "live-test-secret-key-that-is-long-enough-0123"


def _serve(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """``ticketdesk serve`` up and ready, on a free port; another if one is taken meanwhile
    (the port is free when chosen, but the command binds it only once started)."""
    for _ in range(5):
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "ticketdesk", "serve", "--no-worker", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    return process, url
            except httpx.TransportError:
                time.sleep(0.2)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        _, errors = process.communicate(timeout=10)
        if "already in use" not in errors:
            raise AssertionError(f"ticketdesk did not start: {errors}")
    raise AssertionError("no free port for ticketdesk in five tries")


def _read_stream(url: str, token: str, lines: list[str], opened: threading.Event) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.stream("GET", url, headers=headers, timeout=httpx.Timeout(10, read=30)) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            lines.append(line)
            opened.set()


@pytest.fixture
async def token(conn: Connection) -> str:
    """An agent's personal access token."""
    user = await make_user(conn, role="agent", name="Grace Agent")
    return (await auth.create_token(conn, user.id, "live")).token


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_serve_stops_promptly_with_streams_open(
    database_url: str, tmp_path: Path, token: str, sent: signal.Signals
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TICKETDESK_DATA_DIR": str(tmp_path / "data"),
        "TICKETDESK_LOG_LEVEL": "warning",
        "TICKETDESK_SECRET_KEY": SECRET_KEY,
    }
    process, url = _serve(env)
    try:
        streams = []
        for _ in range(3):
            lines: list[str] = []
            opened = threading.Event()
            reader = threading.Thread(
                target=_read_stream,
                args=(f"{url}/api/v1/events/stream", token, lines, opened),
                daemon=True,
            )
            reader.start()
            assert opened.wait(10), "the stream did not open"
            streams.append((reader, lines))

        process.send_signal(sent)
        _, errors = process.communicate(timeout=10)  # a server waiting on its streams would not
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()

    # Ctrl-C is a clean stop; SIGTERM ends the process by that signal once stopped.
    assert process.returncode == (0 if sent == signal.SIGINT else -sent), errors
    for reader, lines in streams:
        reader.join(timeout=5)
        assert not reader.is_alive(), "a client still reads an open stream"
        assert lines[0] == "retry: 3000"
