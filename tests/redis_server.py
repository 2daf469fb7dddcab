"""A real Redis for tests: Debian's ``redis-server`` on a free port of 127.0.0.1, with its
files in a temporary directory and nothing saved, which can be stopped and started
again on the same port, as a Redis that goes away and comes back, or paused (SIGSTOP) as
one that hangs.

A free port is free only until someone binds it: another test worker may take it
between ``free_port()`` and the server's start, or while the server is stopped. The
first start then moves to another port; a start again insists on the same one (that is
the point of it) a few times before it gives up.
"""

import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tests.mailservers import free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
START_ATTEMPTS = 5


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
        self._started = False

    @property
    def url(self) -> str:
        """The ``redis://`` URL ticketdesk reaches this server at."""
        credentials = f":{self.password}@" if self.password else ""
        return f"redis://{credentials}127.0.0.1:{self.port}/0"

    @property
    def socket_url(self) -> str:
        """The ``unix://`` URL of the same server, through its Unix socket."""
        credentials = f":{self.password}@" if self.password else ""
        return f"unix://{credentials}{self.root / 'redis.sock'}?db=0"

    def start(self) -> None:
        """Run (again) empty, and wait until it accepts connections: on a new port if the
        first start finds its port taken, on the same port (retried) if a later one does."""
        for _ in range(START_ATTEMPTS):
            if self._run():
                self._started = True
                return
            if self._started:
                time.sleep(0.5)
            else:
                self.port = free_port()
        raise RuntimeError(
            f"redis-server could not listen on port {self.port} after {START_ATTEMPTS}"
            f" attempts: {self.log()}"
        )

    def _run(self) -> bool:
        """One start; ``False`` when the port was taken."""
        log = self.root / "redis.log"
        seen = log.stat().st_size if log.exists() else 0
        command = [
            REDIS_SERVER,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.root),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--logfile", str(log),
            "--unixsocket", str(self.root / "redis.sock"),
            "--unixsocketperm", "700",
        ]  # fmt: skip
        if self.password:
            command += ["--requirepass", self.password]
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            # The log, not a connection: another worker's server may answer on a port
            # this one failed to bind.
            this_run = log.read_text(errors="replace")[seen:] if log.exists() else ""
            if "Ready to accept connections" in this_run:
                self._process = process
                return True
            if process.poll() is not None:
                if "Address already in use" in this_run:
                    return False
                raise RuntimeError(f"redis-server exited: {this_run}")
            time.sleep(0.05)
        process.kill()
        process.wait()
        raise RuntimeError(f"redis-server did not start on port {self.port}: {self.log()}")

    def stop(self) -> None:
        """Stop it: connections are refused until ``start``."""
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def pause(self) -> None:
        """Freeze it (SIGSTOP): connections are accepted and commands never answered,
        until ``resume``."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused server go on (SIGCONT)."""
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def close(self) -> None:
        """Stop it and remove its directory."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        """What the server logged so far."""
        path = self.root / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""
