"""The ``ticketdesk`` command, run the way an operator runs it."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest

from ticketdesk.cli import main

ROOT = Path(__file__).parent.parent
TICKETDESK = [sys.executable, "-m", "ticketdesk"]


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of an operator pointing ticketdesk at the test's database."""
    values = {
        "DATABASE_URL": database_url,
        "TICKETDESK_DATA_DIR": str(tmp_path / "data"),
        "TICKETDESK_LOG_LEVEL": "warning",
        "TICKETDESK_SECRET_KEY": "cli-test-secret-key-that-is-long-enough-0123",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return {**os.environ, **values}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(url: str, process: subprocess.Popen[str], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"ticketdesk exited early: {process.stdout.read() if process.stdout else ''}"
            )
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("ticketdesk did not become ready")


class TestOpenapi:
    def test_prints_the_committed_document(self, capsys: pytest.CaptureFixture[str]) -> None:
        main(["openapi"])
        printed = json.loads(capsys.readouterr().out)
        committed = json.loads((ROOT / "openapi.json").read_text())
        assert printed == committed, "run: .venv/bin/ticketdesk openapi > openapi.json"


class TestMigrate:
    def test_second_run_applies_nothing(
        self, env: dict[str, str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        main(["migrate"])  # the template already holds every migration
        assert capsys.readouterr().out.strip() == "the schema is up to date"


class TestCreateuserAndToken:
    def test_token_signs_in_the_new_user(
        self, env: dict[str, str], capsys: pytest.CaptureFixture[str], database_url: str
    ) -> None:
        main(
            [
                "createuser",
                "--email",
                "ops@example.com",
                "--password",
                "a long password!",
                "--role",
                "admin",
                "--name",
                "Ops",
            ]
        )
        assert "created admin ops@example.com" in capsys.readouterr().out
        main(["token", "create", "--email", "ops@example.com", "--name", "ci"])
        token = capsys.readouterr().out.strip()
        assert token.startswith("tdpat_")
        with psycopg.connect(database_url) as conn:
            row = conn.execute("select count(*) from api_tokens where name = 'ci'").fetchone()
        assert row == (1,)

    def test_duplicate_email_is_a_clear_error(self, env: dict[str, str]) -> None:
        args = ["createuser", "--email", "dup@example.com", "--password", "a long password!"]
        main(args)
        with pytest.raises(SystemExit) as exited:
            main(args)
        assert "e-mail address exists" in str(exited.value)

    def test_token_for_unknown_user(self, env: dict[str, str]) -> None:
        with pytest.raises(SystemExit) as exited:
            main(["token", "create", "--email", "nobody@example.com", "--name", "x"])
        assert "No user with e-mail address nobody@example.com" in str(exited.value)


class TestDemo:
    def test_loads_once(
        self, env: dict[str, str], capsys: pytest.CaptureFixture[str], database_url: str
    ) -> None:
        main(["demo"])
        assert "admin@example.com" in capsys.readouterr().out
        with psycopg.connect(database_url) as conn:
            counts = conn.execute(
                "select (select count(*) from users where role = 'admin'),"
                " (select count(*) from users where role = 'agent'),"
                " (select count(*) from users where role = 'user'),"
                " (select count(*) from tickets),"
                " (select count(*) from comments),"
                " (select count(*) from tickets where tags <> '{}')"
            ).fetchone()
        assert counts is not None
        admins, agents, submitters, tickets, comments, labelled = counts
        assert (admins, agents, submitters, tickets) == (1, 2, 3, 50)
        assert comments > 20
        assert labelled > 20
        main(["demo"])
        assert "already has users" in capsys.readouterr().out


class TestBadConfig:
    def test_names_the_key(self, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TICKETS_MAX_ATTACHMENT_SIZE_MB", "lots")
        with pytest.raises(SystemExit) as exited:
            main(["migrate"])
        assert "tickets.max_attachment_size_mb (TICKETS_MAX_ATTACHMENT_SIZE_MB)" in str(
            exited.value
        )


class TestServe:
    def test_own_database_needs_a_secret_key(
        self, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("TICKETDESK_SECRET_KEY")
        with pytest.raises(SystemExit) as exited:
            main(["serve"])
        assert "secret_key (TICKETDESK_SECRET_KEY): required" in str(exited.value)

    def test_serves_until_interrupted(self, env: dict[str, str]) -> None:
        port = _free_port()
        process = subprocess.Popen(
            [*TICKETDESK, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            _wait_ready(f"http://127.0.0.1:{port}", process)
            response = httpx.get(f"http://127.0.0.1:{port}/api/v1/me")
            assert response.status_code == 401
            assert response.headers["content-type"] == "application/problem+json"
        finally:
            process.send_signal(signal.SIGINT)
            output, _ = process.communicate(timeout=30)
        assert process.returncode == 0
        assert f"ticketdesk is running at http://127.0.0.1:{port}/" in output
        assert "Demo logins" not in output  # an operator's own database gets no demo data

    def test_embedded_database_with_demo_data(self, tmp_path: Path) -> None:
        port = _free_port()
        data_dir = Path("/tmp") / f"ticketdesk-cli-test-{os.getpid()}-{port}"
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(TICKETDESK_DATA_DIR=str(data_dir), TICKETDESK_LOG_LEVEL="warning")
        process = subprocess.Popen(
            [*TICKETDESK, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            _wait_ready(f"http://127.0.0.1:{port}", process, seconds=120)
            login = httpx.post(
                f"http://127.0.0.1:{port}/api/v1/auth/login",
                json={"email": "agent@example.com", "password": "agent-password"},
            )
            assert login.status_code == 200
            tickets = httpx.get(
                f"http://127.0.0.1:{port}/api/v1/tickets?limit=100", cookies=login.cookies
            )
            assert len(tickets.json()["items"]) == 50
        finally:
            process.send_signal(signal.SIGINT)
            output, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        assert "admin@example.com" in output
        assert "admin-password" in output
        # Ctrl-C stopped the embedded PostgreSQL too.
        leftover = [
            p
            for p in psutil.process_iter(["name", "cmdline"])
            if p.info["name"] == "postgres" and str(data_dir) in " ".join(p.info["cmdline"] or [])
        ]
        assert leftover == []
