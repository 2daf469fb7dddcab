"""A real Redis for tests: Debian's ``redis-server`` on a free port of 127.0.0.1, with its
files in a temporary directory and nothing saved, which can be stopped and started
again on the same port, as a Redis that goes away and comes back."""

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.mailservers import free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class RedisMissing(Exception):
    """redis-server is not installed (Debian: apt-get install redis-server)."""


class RedisServer:
    """One redis-server; ``url`` is what ``redis_url`` should say."""

    def __init__(self, *, password: str | None = None) -> None:
        if not Path(REDIS_SERVER).exists():
            raise RedisMissing(f"{REDIS_SERVER} is missing: apt-get install redis-server")
        self.port = free_port()
        self.password = password
        self.root = Path(tempfile.mkdtemp(prefix="ticketdesk-test-redis-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The ``redis://`` URL ticketdesk reaches this server at."""
        credentials = f":{self.password}@" if self.password else ""
        return f"redis://{credentials}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Run (again) on this server's port, empty, and wait until it answers."""
        command = [
            REDIS_SERVER,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.root),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--logfile", str(self.root / "redis.log"),
        ]  # fmt: skip
        if self.password:
            command += ["--requirepass", self.password]
        self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not listen on port {self.port}: {self.log()}")

    def stop(self) -> None:
        """Stop it: connections are refused until ``start``."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def close(self) -> None:
        """Stop it and remove its directory."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        """What the server logged so far."""
        path = self.root / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""
