"""``ticketdesk worker`` in a process of its own, which a test may kill with SIGKILL."""

import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

_PR_SET_PDEATHSIG = 1  # linux/prctl.h

# The test's settings come from its file alone, not from the environment it runs in.
_SETTINGS_PREFIXES = ("TICKETDESK_", "TICKETS_", "DATABASE_URL", "REDIS_URL")

# Quick enough for a test: a dead worker's jobs are taken up again about a second after
# its last heartbeat, and failed attempts are retried within a fraction of a second.
FAST_JOBS = {
    "poll_interval_seconds": 0.1,
    "stalled_after_seconds": 1.0,
    "retry_base_seconds": 0.1,
    "retry_cap_seconds": 0.5,
    "max_attempts": 50,
}


def _die_with_parent() -> None:
    # Should the test run itself be killed, the worker goes too: one left behind would
    # take later runs' jobs from the same test database.
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Worker:
    """One ``ticketdesk worker`` process, reading ``config`` (YAML) for its settings."""

    def __init__(self, config: Path, log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_SETTINGS_PREFIXES)}
        self._log = log.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ticketdesk", "--config", str(config), "-v", "worker"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )

    def kill(self) -> None:
        """SIGKILL: the worker dies mid-job, with no chance to clean up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, as an operator stops it; SIGKILL if it takes too long."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


def write_config(path: Path, database_url: str, data_dir: Path, overrides: dict[str, Any]) -> Path:
    """A settings file for worker processes: the test's database, ``FAST_JOBS`` and
    ``overrides`` (which win)."""
    settings: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": str(data_dir),
        "secret_key": "test-secret-key-that-is-long-enough-0123456789",
        "jobs": dict(FAST_JOBS),
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(settings.get(key), dict):
            settings[key] = {**settings[key], **value}
        else:
            settings[key] = value
    path.write_text(yaml.safe_dump(settings))
    return path
