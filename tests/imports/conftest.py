"""A real django-helpdesk: its own migrations applied to a scratch database of the test
server, filled with a fixed data set through its models, and its REST API served by
Django on 127.0.0.1, once a session."""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql

from tests.mailservers import free_port

ROOT = Path(__file__).parent.parent.parent
SITE = "tests.imports.django_helpdesk_site.settings"


@dataclass(frozen=True)
class Helpdesk:
    database_url: str
    api_url: str
    token: str


def _django(args: list[str], env: dict[str, str]) -> str:
    # Migrating takes about 40 s on a busy machine; a hung one fails the tests instead
    # of holding them.
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if done.returncode != 0:
        pytest.fail(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@pytest.fixture(scope="session")
def helpdesk(server_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Helpdesk]:
    """django-helpdesk's database and API, with the data set of ``populate``."""
    name = f"django_helpdesk_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(server_dsn, dbname=name)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SITE,
        "HELPDESK_DATABASE_URL": url,
        "HELPDESK_MEDIA_ROOT": str(tmp_path_factory.mktemp("helpdesk-media")),
    }
    port = free_port()
    log = tmp_path_factory.mktemp("helpdesk-server") / "runserver.log"
    server = None
    try:
        _django(["-m", "django", "migrate", "--noinput", "-v", "0"], env)
        token = _django(["-m", "tests.imports.django_helpdesk_site.populate"], env).strip()
        with log.open("w") as output:
            server = subprocess.Popen(
                [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        api_url = f"http://127.0.0.1:{port}/api/"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(api_url, timeout=2)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"django-helpdesk's server did not start:\n{log.read_text()}")
                time.sleep(0.2)
        yield Helpdesk(database_url=url, api_url=api_url, token=token)
    finally:
        try:
            if server is not None:
                server.terminate()
                try:
                    server.wait(10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
        finally:
            with psycopg.connect(server_dsn, autocommit=True) as conn:
                conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))
