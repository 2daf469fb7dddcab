"""A real HTTP server on 127.0.0.1 that takes webhook deliveries and keeps them."""

import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """Answers each POST with the next planned answer (then 200) and keeps what came."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        # (status, seconds to wait before answering), used up in order.
        self.plan: deque[tuple[int, float]] = deque()
        # The body of each 2xx answer.
        self.reply = b"ok"
        self._server: ThreadingHTTPServer | None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                status, delay = receiver.plan.popleft() if receiver.plan else (200, 0.0)
                time.sleep(delay)
                answer = receiver.reply if status < 300 else b"x" * 5000
                try:
                    self.send_response(status)
                    if 300 <= status < 400:
                        self.send_header("Location", "/elsewhere")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the caller gave up waiting

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._handler = Handler
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._port: int = self._server.server_address[1]
        self._running = False

    @property
    def url(self) -> str:
        """Where to send deliveries."""
        return f"http://127.0.0.1:{self._port}/hook"

    def start(self) -> None:
        """Serve in a background thread; after ``stop``, on the same port again."""
        if self._server is None:
            self._server = ThreadingHTTPServer(("127.0.0.1", self._port), self._handler)
            self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self._running = True

    def stop(self) -> None:
        """Stop serving: connections are refused until ``start``."""
        if self._server is not None:
            if self._running:
                self._server.shutdown()
            self._server.server_close()
            self._server, self._running = None, False
