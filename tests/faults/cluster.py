"""A PostgreSQL cluster of a test's own, which the test may restart.

The suite's server (127.0.0.1:5432, shared with everyone on the machine) is never
restarted: a test that wants the database to go away makes its own cluster with the
PostgreSQL that pgserver's wheel ships (so it is there wherever ticketdesk installs),
in a temporary directory, listening on a free port of 127.0.0.1. PostgreSQL refuses to
run as root; as root the cluster runs as the ``pgserver`` system user, as the embedded
server does.
"""

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from pgserver._commands import POSTGRES_BIN_PATH
from pgserver.utils import (
    ensure_folder_permissions,
    ensure_prefix_permissions,
    ensure_user_exists,
)

from tests.mailservers import free_port

SYSTEM_USER = "pgserver"
DATABASE = "ticketdesk"
ROOT_PREFIX = "ticketdesk-test-cluster-"
# The test process a cluster belongs to.
OWNER_FILE = "owner.pid"


def alive(pid: int) -> bool:
    """Whether process ``pid`` is still running."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_abandoned(user: dict[str, Any]) -> None:
    """Stop and remove the clusters of test runs killed before they could (their owner is
    gone): pg_ctl starts a server that outlives the process that started it. Another
    run's clusters, whose owner is alive, are left alone."""
    for root in Path("/tmp").glob(f"{ROOT_PREFIX}*"):
        try:
            owner = int((root / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # being made, or not one of these
        if alive(owner):
            continue
        if (root / "data" / "postmaster.pid").exists():
            stop = [str(POSTGRES_BIN_PATH / "pg_ctl"), "stop", "-D", str(root / "data")]
            subprocess.run([*stop, "-m", "immediate"], capture_output=True, check=False, **user)
        shutil.rmtree(root, ignore_errors=True)


class Cluster:
    """initdb, then ``pg_ctl start``/``restart``/``stop``; ``dsn`` names its database;
    ``close`` removes it."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix=ROOT_PREFIX, dir="/tmp"))
        self.data = self.root / "data"
        self.port = free_port()
        self._user: dict[str, Any] = {}
        if os.geteuid() == 0:
            # As pgserver does: the user, and its way to the binaries (the checkout may be
            # under a directory only root may enter).
            entry = ensure_user_exists(SYSTEM_USER)
            assert entry is not None
            readable = stat.S_IRGRP | stat.S_IROTH
            ensure_prefix_permissions(POSTGRES_BIN_PATH)
            ensure_folder_permissions(POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            self._user = {"user": entry.pw_uid, "group": entry.pw_gid}
        _stop_abandoned(self._user)
        (self.root / OWNER_FILE).write_text(str(os.getpid()))
        try:
            self._run(
                "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                "--encoding=utf8", "--no-sync",
            )  # fmt: skip
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    @property
    def dsn(self) -> str:
        """Where ticketdesk reaches the cluster's ``ticketdesk`` database, over TCP."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def start(self) -> None:
        """Start the server and wait until it takes connections."""
        self._pg_ctl("start")

    def restart(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: end every session; ``immediate``: as a crash) and
        start it again on the same port; return once it takes connections."""
        self._pg_ctl("restart", "-m", mode)

    def stop(self) -> None:
        """Stop the server (``fast``): connections are refused until ``start``."""
        self._pg_ctl("stop", "-m", "fast")

    def close(self) -> None:
        """Stop the server and remove its files."""
        try:
            self._pg_ctl("stop", "-m", "immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        """What the server logged."""
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _pg_ctl(self, action: str, *options: str) -> None:
        server_options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
        self._run(
            "pg_ctl", action, "-D", str(self.data), "-w", "-t", "30",
            "-l", str(self.root / "server.log"), "-o", server_options, *options,
        )  # fmt: skip

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run(
            [str(POSTGRES_BIN_PATH / program), *args],
            capture_output=True,
            text=True,
            cwd=self.root,
            check=False,
            **self._user,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed: {result.stderr}\n{self.log()}")
