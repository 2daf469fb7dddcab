"""A real ticketdesk HTTP server in a thread, for the tests that talk to one over TCP."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from fastapi import FastAPI

from ticketdesk.app import end_live_streams


@contextmanager
def serving(app: FastAPI, sock: socket.socket) -> Iterator[str]:
    """``app`` served on ``sock`` until the block ends; yields its URL once it is ready.

    The socket is bound by the caller and handed over, as ``ticketdesk serve`` does: no
    other process can take the port between choosing it and serving on it. On leaving,
    as ``serve`` does on Ctrl-C, the live streams end first, then the server."""
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    host, port = sock.getsockname()
    url = f"http://{host}:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        raise AssertionError("the server did not start")
    try:
        yield url
    finally:
        end_live_streams(app)
        server.should_exit = True
        thread.join(timeout=10)
        assert not thread.is_alive(), "the server did not stop"
