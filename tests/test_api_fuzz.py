"""The API keeps its own description: schemathesis against the served OpenAPI document.

A real server on a port, with the demo's people and tickets in its database, is fuzzed
as a submitter, an agent and an admin (each by a personal access token) with every
check schemathesis has: no server error, and every answer (status, content type,
headers, body) one that the document describes for that operation; a method a path does
not serve is a 405 with the right ``Allow``; what the document forbids is refused. Two
exceptions, each with its reason: positive_data_acceptance below, and use_after_free on
the DELETEs that end a state rather than a resource (``schemathesis.toml``). Each run
leaves out the two operations that would end the very token it runs with, leaving the
rest of the run to see only 401s: ``revokeToken`` (schemathesis reads the token's id
from ``GET /me/tokens``) and ``logoutEverywhere`` (with ``revoke_tokens``); tests/auth
covers both. After each run the token must still sign its role in. The
stateful phase follows the document's links (create a ticket → read it → update it →
comment on it) and must cover each of them.

Each run is bounded by its number of examples per operation and by a time budget, so
the module takes about two minutes on two busy cores; ``--seed`` keeps a failure
reproducible (the command and its output are in the assertion message).
"""

import asyncio
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

from tests.servers import serving
from ticketdesk.app import create_app
from ticketdesk.auth.service import create_token
from ticketdesk.config import Settings
from ticketdesk.demo import load_demo
from ticketdesk.users.service import get_user_by_email

pytestmark = pytest.mark.xdist_group("fuzz")

SEED = 20261202
CONFIG = Path(__file__).parent / "schemathesis.toml"
# The examples each operation gets, and each run's time budget in seconds: a role's run,
# and the stateful one.
MAX_EXAMPLES = 10
ROLE_SECONDS = 20
STATEFUL_SECONDS = 15
STATELESS_PHASES = ("examples", "coverage", "fuzzing")
# The links the document declares from a ticket to what may follow it.
LINKED = ("getTicket", "updateTicket", "addComment", "listComments")


@pytest.fixture
def served(settings: Settings) -> Iterator[str]:
    """ticketdesk with the demo data, serving on a free port until the test ends."""
    assert settings.database_url is not None
    database_url = settings.database_url

    async def seed() -> None:
        async with await psycopg.AsyncConnection.connect(
            database_url, row_factory=dict_row, autocommit=True
        ) as conn:
            await load_demo(conn, reopen_window=settings.reopen_window, tickets_wanted=8)

    app = create_app(settings)  # which also subscribes the event log to changes
    asyncio.run(seed())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        with serving(app, sock) as url:
            yield url
    finally:
        sock.close()


def _token_for(settings: Settings, email: str) -> str:
    assert settings.database_url is not None
    database_url = settings.database_url

    async def make() -> str:
        async with await psycopg.AsyncConnection.connect(
            database_url, row_factory=dict_row, autocommit=True
        ) as conn:
            user = await get_user_by_email(conn, email)
            return (await create_token(conn, user.id, "fuzz")).token

    return asyncio.run(make())


def _schemathesis(
    url: str, token: str, report: Path, seconds: int, *phases: str, only: str = ".*"
) -> str:
    """Run schemathesis against ``url``; return what it printed, failing on any finding."""
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        f"--config-file={CONFIG}",
        "run",
        f"{url}/api/v1/openapi.json",
        "--checks=all",
        # positive_data_acceptance expects every request the document allows to succeed.
        # Some refusals hang on data no schema can hold, and are 4xx by design: a ticket's
        # tags must name labels that exist, a cursor must be one the API handed out, an
        # If-Match must be the current version, text must be storable by PostgreSQL. Every
        # other check stays on; negative_data_rejection holds the API to refusing what the
        # document forbids.
        "--exclude-checks=positive_data_acceptance",
        f"--phases={','.join(phases)}",
        f"--max-examples={MAX_EXAMPLES}",
        f"--max-time={seconds}",
        f"--seed={SEED}",
        "--workers=1",
        "--request-timeout=10",
        "--suppress-health-check=all",
        "--no-color",
        f"--header=Authorization: Bearer {token}",
        "--report=junit",
        f"--report-dir={report}",
        f"--include-path-regex={only}",
        "--exclude-operation-id=revokeToken",
        "--exclude-operation-id=logoutEverywhere",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds * 4, cwd=report)
    shown = " ".join(command).replace(token, "tdpat_…")
    assert done.returncode == 0, f"{shown}\n\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _role_of(url: str, token: str) -> str:
    """The role ``token`` signs in as, which must still work after a run."""
    me = httpx.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    role: str = me.json()["role"]
    return role


@pytest.mark.parametrize(
    ("email", "role"),
    [("user@example.com", "user"), ("agent@example.com", "agent"), ("admin@example.com", "admin")],
)
def test_every_answer_is_described(
    served: str, settings: Settings, email: str, role: str, tmp_path: Path
) -> None:
    token = _token_for(settings, email)
    _schemathesis(served, token, tmp_path, ROLE_SECONDS, *STATELESS_PHASES)

    assert _role_of(served, token) == role


def test_create_read_update_comment_follow_the_links(
    served: str, settings: Settings, tmp_path: Path
) -> None:
    printed = _schemathesis(
        served,
        _token_for(settings, "agent@example.com"),
        tmp_path,
        STATEFUL_SECONDS,
        "stateful",
        only="^/api/v1/tickets",
    )

    covered = re.search(r"API Links: +(\d+) covered", printed)
    assert covered is not None, printed
    assert int(covered.group(1)) >= len(LINKED), printed
