"""The ``ticketdesk`` command, run the way an operator runs it."""

import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.mailservers import free_port
from ticketdesk.cli import main
from ticketdesk.db import migration_files

ROOT = Path(__file__).parent.parent
TICKETDESK = [sys.executable, "-m", "ticketdesk"]

# Every command that uses the database, as an operator would type it.
DATABASE_COMMANDS = {
    "serve": ["serve"],
    "worker": ["worker"],
    "migrate": ["migrate"],
    "demo": ["demo"],
    "createuser": ["createuser", "--email", "ops@example.com", "--password", "a long password!"],
    "token create": ["token", "create", "--email", "ops@example.com", "--name", "ci"],
    "import django-helpdesk": [
        "import",
        "django-helpdesk",
        "--api-url",
        "http://127.0.0.1:9/api/",
        "--token",
        "t",
        "--as",
        "ops@example.com",
    ],
}
SECRET_KEY = "cli-test-secret-key-that-is-long-enough-0123"
# A line of the start-up story: "  migrations    5 applied, to 0005_x (0.1 s)".
STEP = re.compile(r"^  (\S+(?: \S+)?) +(.+) \(\d+\.\d s\)$")


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


# What _wait_ready read of each process's standard output, given back with the rest.
_read_so_far: dict[int, str] = {}
BANNER = "ticketdesk is running at"


def _wait_ready(url: str, process: subprocess.Popen[str], seconds: float = 60) -> None:
    """Wait until ``url`` answers and the banner is out: it prints once every server
    process listens, and Ctrl-C before it is an interrupted start-up (status 130)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"ticketdesk exited early: {process.communicate()}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    else:
        raise AssertionError("ticketdesk did not become ready")
    assert process.stdout is not None
    seen = b""
    while BANNER.encode() not in seen:
        if time.monotonic() > deadline:
            raise AssertionError(f"no banner after {seconds} s: {seen.decode(errors='replace')}")
        if select.select([process.stdout], [], [], 0.2)[0]:
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                raise AssertionError(f"ticketdesk exited early: {process.communicate()}")
            seen += chunk
    _read_so_far[process.pid] = seen.decode(errors="replace")


def _output(process: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    """What the process printed on stdout (all of it) and stderr, once it has ended."""
    output, errors = process.communicate(timeout=timeout)
    return _read_so_far.pop(process.pid, "") + output, errors


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """Start ``ticketdesk`` in a process group of its own, as a shell starts a command."""
    return subprocess.Popen(
        [*TICKETDESK, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _interrupt(process: subprocess.Popen[str], seconds: float) -> tuple[str, str]:
    """Ctrl-C as a terminal sends it, to the whole process group (the embedded PostgreSQL
    and its initdb too); what it printed on stdout and stderr. A hang fails the test."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        return _output(process, seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise


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

    def test_read_only_token_with_an_end(
        self, env: dict[str, str], capsys: pytest.CaptureFixture[str], database_url: str
    ) -> None:
        main(["createuser", "--email", "ro@example.com", "--password", "a long password!"])
        capsys.readouterr()
        args = ["token", "create", "--email", "ro@example.com", "--name", "report"]

        main([*args, "--read-only", "--expires-in-days", "30"])

        assert capsys.readouterr().out.strip().startswith("tdpat_")
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "select scope, round(extract(epoch from expires_at - now()) / 86400)"
                " from api_tokens where name = 'report'"
            ).fetchone()
        assert row == ("read", 30)

    @pytest.mark.parametrize("days", ["0", "367", "soon"])
    def test_token_days_out_of_range(
        self, env: dict[str, str], capsys: pytest.CaptureFixture[str], days: str
    ) -> None:
        with pytest.raises(SystemExit):
            main(
                [
                    "token",
                    "create",
                    "--email",
                    "x@example.com",
                    "--name",
                    "x",
                    "--expires-in-days",
                    days,
                ]
            )

        assert "--expires-in-days: must be a whole number from 1 to 366" in capsys.readouterr().err

    def test_duplicate_email_is_a_clear_error(self, env: dict[str, str]) -> None:
        args = ["createuser", "--email", "dup@example.com", "--password", "a long password!"]
        main(args)
        with pytest.raises(SystemExit) as exited:
            main(args)
        assert "e-mail address exists" in str(exited.value)

    def test_a_common_password_is_refused(self, env: dict[str, str], database_url: str) -> None:
        with pytest.raises(SystemExit) as exited:
            main(["createuser", "--email", "ops@example.com", "--password", "password12"])

        assert "list of common and leaked passwords" in str(exited.value)
        with psycopg.connect(database_url) as conn:
            assert conn.execute("select count(*) from users").fetchone() == (0,)

    def test_a_short_password_is_refused(self, env: dict[str, str], database_url: str) -> None:
        with pytest.raises(SystemExit) as exited:
            main(["createuser", "--email", "ops@example.com", "--password", "Xk9#mQ2"])

        assert "A password needs 10 to 200 characters." in str(exited.value)
        with psycopg.connect(database_url) as conn:
            assert conn.execute("select count(*) from users").fetchone() == (0,)

    def test_an_internal_domain_needs_the_setting(
        self,
        env: dict[str, str],
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        args = ["createuser", "--email", "it@corp.local", "--password", "a long password!"]
        with pytest.raises(SystemExit) as exited:
            main(args)
        assert str(exited.value) == (
            "ticketdesk: corp.local is not a public e-mail domain. Use another address, "
            "or ask an admin to accept it as an internal domain."
        )

        monkeypatch.setenv("TICKETDESK_INTERNAL_EMAIL_DOMAINS", "corp.local")
        main(args)
        assert "created user it@corp.local" in capsys.readouterr().out

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
                " (select count(*) from tickets where tags <> '{}'),"
                " (select count(*) from tickets where type = 'bug'),"
                " (select count(*) from ticket_field_values)"
            ).fetchone()
            routed = conn.execute(
                "select (select count(*) from tickets where type = 'support'),"
                " (select count(*) from tickets t join teams s on s.id = t.team_id"
                "  where t.type = 'support' and s.name = 'Support'),"
                " (select count(*) from tickets where sla_state is not null),"
                " (select count(*) from team_members m join users u on u.id = m.user_id"
                "  where u.role = 'agent'),"
                " (select count(*) from assignment_rules),"
                " (select count(*) from sla_policies)"
            ).fetchone()
        assert counts is not None
        admins, agents, submitters, tickets, comments, labelled, bugs, severities = counts
        assert (admins, agents, submitters, tickets) == (1, 2, 3, 50)
        assert comments > 20
        assert labelled > 20
        # Every bug has a severity, the demo's custom field.
        assert bugs > 0
        assert severities == bugs
        # Support questions go to the Support team (both agents), and tickets have an SLA.
        assert routed is not None
        support, to_support, with_sla, members, rules, policies = routed
        assert support > 0
        assert to_support == support
        assert with_sla > 0
        assert (members, rules, policies) == (2, 1, 1)
        main(["demo"])
        assert "already has users" in capsys.readouterr().out


class TestReportsRebuild:
    def test_the_demo_s_reports_are_built_as_it_loads_and_again_by_the_rebuild(
        self, env: dict[str, str], capsys: pytest.CaptureFixture[str], database_url: str
    ) -> None:
        # What the reports count, folded into the days or still waiting to be.
        query = (
            "select coalesce(sum(created), 0), coalesce(sum(backlog_delta), 0) from ("
            " select created, backlog_delta from report_days where dimension = 'all'"
            " union all select created, backlog_delta from report_day_changes"
            " where dimension = 'all') counted"
        )
        main(["demo"])
        capsys.readouterr()
        with psycopg.connect(database_url) as conn:
            loaded = conn.execute(query).fetchone()
            open_now = conn.execute(
                "select count(*) from tickets where status not in ('resolved', 'closed')"
            ).fetchone()
        assert loaded is not None
        assert open_now is not None
        assert loaded == (50, open_now[0])
        main(["reports", "rebuild", "--time-zone", "Europe/Berlin"])
        assert capsys.readouterr().out.strip() == (
            "rebuilt the reports from 50 tickets, days in Europe/Berlin"
        )
        with psycopg.connect(database_url) as conn:
            assert conn.execute(query).fetchone() == loaded
            zone = conn.execute("select time_zone from report_settings").fetchone()
        assert zone == ("Europe/Berlin",)

    def test_an_unknown_zone_is_refused(
        self, env: dict[str, str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        with pytest.raises(SystemExit) as exited:
            main(["reports", "rebuild", "--time-zone", "Europe/Mars"])
        assert exited.value.code == 2
        assert "no such time zone: Europe/Mars" in capsys.readouterr().err


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

    def test_a_worker_on_its_own_database_needs_the_secret_key_too(
        self, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # It would sign the links it mails with a key of its own, which the API lacks.
        monkeypatch.delenv("TICKETDESK_SECRET_KEY")
        with pytest.raises(SystemExit) as exited:
            main(["worker"])
        assert exited.value.code == (
            "ticketdesk: invalid configuration:\n"
            "  secret_key (TICKETDESK_SECRET_KEY): required when database_url (DATABASE_URL) is set"
        )

    def test_serves_until_interrupted(self, env: dict[str, str]) -> None:
        port = free_port()
        process = _start(["serve", "--port", str(port)], env)
        try:
            _wait_ready(f"http://127.0.0.1:{port}", process)
            response = httpx.get(f"http://127.0.0.1:{port}/api/v1/me")
            assert response.status_code == 401
            assert response.headers["content-type"] == "application/problem+json"
        finally:
            output, errors = _interrupt(process, seconds=30)
        assert (process.returncode, errors) == (0, "")
        assert f"ticketdesk is running at http://127.0.0.1:{port}/" in output
        assert "Demo logins" not in output  # an operator's own database gets no demo data

    def test_json_logs_one_line_a_request(self, database_url: str, tmp_path: Path) -> None:
        env = {**_operator_env(database_url, tmp_path), "TICKETDESK_LOG_FORMAT": "json"}
        port = free_port()
        process = _start(["serve", "--no-worker", "--port", str(port)], env)
        try:
            _wait_ready(f"http://127.0.0.1:{port}", process)
            response = httpx.get(
                f"http://127.0.0.1:{port}/api/v1/me",
                headers={"X-Request-ID": "cli-json-0123", "X-Forwarded-For": "203.0.113.9"},
            )
        finally:
            output, errors = _interrupt(process, seconds=30)

        assert response.status_code == 401
        assert process.returncode == 0
        logged = [json.loads(line) for line in errors.splitlines()]
        [line] = [entry for entry in logged if entry.get("request_id") == "cli-json-0123"]
        assert line["logger"] == "ticketdesk.access"
        assert (line["method"], line["route"], line["status"]) == ("GET", "/api/v1/me", 401)
        # The peer is not a trusted proxy: its X-Forwarded-For is not believed.
        assert line["client"] == "127.0.0.1"
        # uvicorn's own access line is left out: one line a request.
        assert not any(entry["logger"] == "uvicorn.access" for entry in logged)
        assert f"ticketdesk is running at http://127.0.0.1:{port}/" in output

    @pytest.mark.parametrize("workers", ["0", "two"])
    def test_workers_out_of_range(self, capsys: pytest.CaptureFixture[str], workers: str) -> None:
        with pytest.raises(SystemExit) as exited:
            main(["serve", "--workers", workers])

        assert exited.value.code == 2
        assert "--workers: must be a whole number, 1 or more" in capsys.readouterr().err

    def test_workers(self, env: dict[str, str], database_url: str) -> None:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = _start(["serve", "--workers", "2", "--port", str(port)], env)
        try:
            _wait_ready(url, process)
            servers = psutil.Process(process.pid).children()
            assert len(servers) == 2
            # Connections are spread over both: that all of 16 go to one has odds of 1 in
            # 32,768.
            clients = [httpx.Client(base_url=url) for _ in range(16)]
            try:
                assert {c.get("/healthz").status_code for c in clients} == {200}
                assert all(_connections(server, port) for server in servers)
            finally:
                for client in clients:
                    client.close()
            assert _job_workers(database_url) == 1

            def body() -> Iterator[bytes]:
                # The request has begun when ticketdesk is told to stop; it finishes.
                yield b'{"email": "late@example.com", '
                _wait_for_connection(servers, port)
                process.send_signal(signal.SIGTERM)
                time.sleep(0.5)
                yield b'"name": "Late", "password": "a long passphrase"}'

            response = httpx.post(
                f"{url}/api/v1/auth/signup",
                content=body(),
                headers={"Content-Type": "application/json"},
                timeout=30,
            )
            output, errors = _output(process, 30)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()

        assert response.status_code == 201
        # Stopped by SIGTERM, as one process is (uvicorn raises it again once stopped).
        assert (process.returncode, errors) == (-signal.SIGTERM, "")
        assert output.count("ticketdesk is running at") == 1

    @staticmethod
    def _sign_ups(url: str, forwarded_for: list[str], proto: str = "http") -> list[httpx.Response]:
        return [
            httpx.post(
                f"{url}/api/v1/auth/signup",
                json={"email": f"n{n}@example.com", "name": "N", "password": "a long passphrase"},
                headers={"X-Forwarded-For": address, "X-Forwarded-Proto": proto},
            )
            for n, address in enumerate(forwarded_for)
        ]

    def test_forwarded_headers_from_a_peer_not_trusted_are_ignored(
        self, env: dict[str, str]
    ) -> None:
        port = free_port()
        # One process: each counts the limit on its own without Redis.
        process = _start(["serve", "--workers", "1", "--port", str(port)], env)
        try:
            _wait_ready(f"http://127.0.0.1:{port}", process)
            # A client on this host making up a new address for each request.
            answers = self._sign_ups(
                f"http://127.0.0.1:{port}", [f"203.0.113.{n}" for n in range(11)], "https"
            )
        finally:
            _interrupt(process, seconds=30)

        assert [r.status_code for r in answers] == [201] * 10 + [429]
        assert "secure" not in answers[0].headers["set-cookie"].lower()

    def test_forwarded_headers_from_a_trusted_proxy_are_believed(self, env: dict[str, str]) -> None:
        port = free_port()
        trusted = {**env, "TICKETDESK_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"}
        process = _start(["serve", "--port", str(port)], trusted)
        try:
            _wait_ready(f"http://127.0.0.1:{port}", process)
            answers = self._sign_ups(
                f"http://127.0.0.1:{port}", [f"203.0.113.{n}" for n in range(11)], "https"
            )
        finally:
            _interrupt(process, seconds=30)

        assert [r.status_code for r in answers] == [201] * 11
        assert "secure" in answers[0].headers["set-cookie"].lower()

    def test_an_ipv6_address(self, env: dict[str, str]) -> None:
        port = free_port()
        process = _start(["serve", "--host", "::1", "--port", str(port)], env)
        try:
            _wait_ready(f"http://[::1]:{port}", process)
        finally:
            output, errors = _interrupt(process, seconds=30)
        assert (process.returncode, errors) == (0, "")
        assert f"ticketdesk is running at http://[::1]:{port}/" in output

    def test_embedded_database_with_demo_data(self, tmp_path: Path) -> None:
        port = free_port()
        data_dir = Path("/tmp") / f"ticketdesk-cli-test-{os.getpid()}-{port}"
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env = {k: v for k, v in env.items() if k != "TICKETDESK_LOG_LEVEL"}
        env.update(TICKETDESK_DATA_DIR=str(data_dir))
        process = _start(["serve", "--port", str(port)], env)
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
            output, _ = _interrupt(process, seconds=60)
        assert process.returncode == 0
        assert "admin@example.com" in output
        assert "admin-password" in output
        # Before the banner, one line a step: no initdb transcript, no job queue chatter.
        story = output.split("\n\n  ticketdesk is running")[0].splitlines()
        steps = [STEP.match(line) for line in story]
        assert all(steps), story
        assert [step[1] for step in steps if step] == ["database", "migrations", "demo data"]
        # Ctrl-C stopped the embedded PostgreSQL too.
        leftover = [
            p
            for p in psutil.process_iter(["name", "cmdline"])
            if p.info["name"] == "postgres" and str(data_dir) in " ".join(p.info["cmdline"] or [])
        ]
        assert leftover == []
        shutil.rmtree(data_dir)


def _job_workers(dsn: str) -> int:
    """How many job workers have registered with the queue, once one has."""
    deadline = time.monotonic() + 30
    with psycopg.connect(dsn, autocommit=True) as conn:
        while True:
            row = conn.execute("select count(*) from procrastinate_workers").fetchone()
            assert row is not None
            if row[0] or time.monotonic() > deadline:
                count: int = row[0]
                return count
            time.sleep(0.2)


def _connections(server: psutil.Process, port: int) -> int:
    """How many clients' connections to ``port`` ``server`` holds."""
    return sum(
        1
        for connection in server.net_connections(kind="tcp")
        if connection.laddr.port == port and connection.status == psutil.CONN_ESTABLISHED
    )


def _wait_for_connection(servers: list[psutil.Process], port: int) -> None:
    """Until one of ``servers`` has taken a connection on ``port``."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if any(_connections(server, port) for server in servers):
            return
        time.sleep(0.05)
    raise AssertionError("no server process took the connection")


def _operator_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """An operator's environment: their database, and the default log level."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TICKETDESK_", "TICKETS_"))}
    env.update(
        DATABASE_URL=database_url,
        TICKETDESK_DATA_DIR=str(tmp_path / "data"),
        TICKETDESK_SECRET_KEY=SECRET_KEY,
    )
    return env


def _ticketdesk(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TICKETDESK, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _where(dsn: str) -> str:
    params = conninfo_to_dict(dsn)
    return f"{params.get('host') or 'localhost'}:{params.get('port') or 5432}/{params['dbname']}"


def _tables(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("select tablename from pg_tables where schemaname = 'public'")
        return sorted(row[0] for row in rows)


def _applied(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("select version from schema_migrations order by version")
        return [row[0] for row in rows]


class TestUnreachableDatabase:
    @pytest.mark.parametrize("command", DATABASE_COMMANDS.values(), ids=DATABASE_COMMANDS.keys())
    def test_one_line_without_the_password(self, command: list[str], tmp_path: Path) -> None:
        port = free_port()  # nothing listens there
        dsn = f"postgresql://ops:pw-s3cret@127.0.0.1:{port}/ticketdesk"

        result = _ticketdesk(command, _operator_env(dsn, tmp_path))

        assert result.returncode == 1
        assert result.stderr.splitlines() == [
            f"ticketdesk: cannot connect to the database at 127.0.0.1:{port}/ticketdesk:"
            " Connection refused"
        ]
        assert "pw-s3cret" not in result.stdout + result.stderr

    def test_embedded_server_that_does_not_start(self, tmp_path: Path) -> None:
        env = _operator_env("", tmp_path)
        del env["DATABASE_URL"]
        pgdata = tmp_path / "data" / "postgres"
        pgdata.mkdir(parents=True)
        (pgdata / "PG_VERSION").write_text("15\n")  # a data directory missing its files

        result = _ticketdesk(["migrate"], env)

        assert result.returncode == 1
        assert result.stderr.splitlines()[-1] == (
            f"ticketdesk: the embedded PostgreSQL in {pgdata} did not start;"
            f" its log: {pgdata / 'log'}"
        )
        assert "Traceback" not in result.stderr
        assert "could not access the server configuration file" in result.stderr  # why


class TestUnmigratedDatabase:
    @pytest.mark.parametrize(
        "command",
        [DATABASE_COMMANDS["createuser"], DATABASE_COMMANDS["token create"]],
        ids=["createuser", "token create"],
    )
    def test_says_to_migrate(self, command: list[str], empty_database: str, tmp_path: Path) -> None:
        result = _ticketdesk(command, _operator_env(empty_database, tmp_path))

        assert result.returncode == 1
        assert result.stderr.splitlines() == [
            f"ticketdesk: the database at {_where(empty_database)} has no ticketdesk schema;"
            ' run "ticketdesk migrate"'
        ]
        assert _tables(empty_database) == []  # it was only looked at

    def test_behind_says_how_far(self, empty_database: str, tmp_path: Path) -> None:
        first, sql_text = migration_files()[0]
        with psycopg.connect(empty_database, autocommit=True) as conn:  # an older ticketdesk's
            conn.execute(
                "create table schema_migrations (version text primary key,"
                " applied_at timestamptz not null default now())"
            )
            conn.execute(sql_text.encode())
            conn.execute("insert into schema_migrations (version) values (%s)", (first,))

        result = _ticketdesk(
            DATABASE_COMMANDS["createuser"], _operator_env(empty_database, tmp_path)
        )

        assert result.returncode == 1
        pending = len(migration_files()) - 1
        assert result.stderr.splitlines() == [
            f"ticketdesk: the database at {_where(empty_database)} is behind:"
            f' {pending} migrations pending; run "ticketdesk migrate"'
        ]

    def test_migrate_then_createuser(self, empty_database: str, tmp_path: Path) -> None:
        env = _operator_env(empty_database, tmp_path)

        migrated = _ticketdesk(["migrate"], env)
        created = _ticketdesk(DATABASE_COMMANDS["createuser"], env)

        versions = [version for version, _ in migration_files()]
        assert (migrated.returncode, migrated.stderr) == (0, "")
        assert migrated.stdout == f"applied: {', '.join(versions)}\n"
        assert _applied(empty_database) == versions
        assert created.returncode == 0
        assert created.stdout.startswith("created user ops@example.com")

    def test_demo_migrates_first(self, empty_database: str, tmp_path: Path) -> None:
        result = _ticketdesk(["demo"], _operator_env(empty_database, tmp_path))

        assert (result.returncode, result.stderr) == (0, "")
        assert "admin@example.com" in result.stdout
        assert _applied(empty_database) == [version for version, _ in migration_files()]

    @pytest.mark.parametrize(
        ("command", "running"),
        [
            (["serve", "--no-worker"], "  ticketdesk is running at http://127.0.0.1:{port}/"),
            (["worker"], "  ticketdesk worker is running jobs. Press Ctrl-C to stop."),
        ],
        ids=["serve", "worker"],
    )
    def test_long_running_commands_migrate_first(
        self, command: list[str], running: str, empty_database: str, tmp_path: Path
    ) -> None:
        port = free_port()
        process = subprocess.Popen(
            [*TICKETDESK, *command],
            env={**_operator_env(empty_database, tmp_path), "TICKETDESK_PORT": str(port)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # as _start does, for _interrupt
        )
        assert process.stdout is not None
        before_running: list[str] = []
        try:
            for line in process.stdout:
                if line.rstrip("\n") == running.format(port=port):
                    break
                before_running.append(line.rstrip("\n"))
            else:
                raise AssertionError("\n".join(before_running))
        finally:
            _interrupt(process, seconds=60)

        assert process.returncode == 0
        story = [line for line in before_running if line]
        steps = [STEP.match(line) for line in story]
        assert all(steps), story  # nothing but the story before it runs
        assert [(step[1], step[2]) for step in steps if step] == [
            ("database", f"PostgreSQL at {_where(empty_database)}"),
            ("migrations", f"{len(migration_files())} applied, to {migration_files()[-1][0]}"),
        ]
        assert _applied(empty_database) == [version for version, _ in migration_files()]


class TestConfigFile:
    @pytest.fixture
    def config(self, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        """A YAML file naming the test's database, which the environment no longer does."""
        path = tmp_path / "ticketdesk.yaml"
        path.write_text(f"database_url: {json.dumps(env['DATABASE_URL'])}\n", encoding="utf-8")
        monkeypatch.delenv("DATABASE_URL")
        return path

    def test_given_with_config(self, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
        main(["--config", str(config), "migrate"])

        assert capsys.readouterr().out == "the schema is up to date\n"

    def test_named_by_the_environment(
        self, config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setenv("TICKETDESK_CONFIG", str(config))

        main(["migrate"])

        assert capsys.readouterr().out == "the schema is up to date\n"

    def test_an_unknown_key(self, config: Path, env: dict[str, str]) -> None:
        config.write_text(config.read_text() + "cache_url: redis://cache:6379/0\n")

        with pytest.raises(SystemExit) as exited:
            main(["--config", str(config), "migrate"])

        assert str(exited.value) == (
            f"ticketdesk: invalid configuration:\n  cache_url: unknown setting in {config}"
        )


class TestStory:
    def test_a_failed_step_shows_what_it_logged(self, tmp_path: Path) -> None:
        env = _operator_env("", tmp_path)
        del env["DATABASE_URL"]
        pgdata = tmp_path / "data" / "postgres"
        pgdata.mkdir(parents=True)
        (pgdata / "PG_VERSION").write_text("15\n")  # a data directory missing its files
        log = tmp_path / "data" / "logs" / "start.log"

        result = _ticketdesk(["--log-file", str(log), "serve"], env)

        assert result.returncode == 1
        assert result.stdout.startswith("  database      failed after ")
        errors = result.stderr.splitlines()
        tail = errors.index(f"  the last lines it logged to {log}:")
        assert any(
            "could not access the server configuration file" in line for line in errors[tail:]
        )
        assert errors[-1].startswith("ticketdesk: the embedded PostgreSQL in ")
        assert "Traceback" not in result.stderr
        logged = log.read_text()
        assert "PG_VERSION file found, skipping initdb" in logged  # pgserver's INFO: the log's
        assert "skipping initdb" not in result.stdout + result.stderr
        assert "step database failed" in logged


@pytest.fixture
def silent_database() -> Iterator[tuple[str, socket.socket]]:
    """A DSN whose server accepts connections and never answers, and its socket."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(30)  # a command that never connects fails the test, not hangs it
        port = server.getsockname()[1]
        yield f"postgresql://ops:pw-s3cret@127.0.0.1:{port}/ticketdesk", server


@pytest.fixture
def embedded_data_dir() -> Iterator[Path]:
    """A data directory for the embedded PostgreSQL, removed afterwards.

    Not under tmp_path: run as root, the server runs as the ``pgserver`` user, which
    cannot enter pytest's private temporary directories.
    """
    path = Path("/tmp") / f"ticketdesk-cli-test-{uuid.uuid4().hex[:12]}"
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _postgres_left_running(data_dir: Path, seconds: float) -> list[psutil.Process]:
    """PostgreSQL's processes for ``data_dir`` still running after ``seconds``: those
    that got Ctrl-C too may take a moment to clean up and exit."""
    processes = [
        p
        for p in psutil.process_iter(["name", "cmdline"])
        if p.info["name"] in ("postgres", "initdb", "pg_ctl")
        and str(data_dir) in " ".join(p.info["cmdline"] or [])
    ]
    _, alive = psutil.wait_procs(processes, timeout=seconds)
    return list(alive)


class TestPortInUse:
    def test_one_line_naming_the_port(self, database_url: str, tmp_path: Path) -> None:
        with socket.create_server(("127.0.0.1", 0)) as taken:
            port = taken.getsockname()[1]
            env = {**_operator_env(database_url, tmp_path), "TICKETDESK_PORT": str(port)}

            result = _ticketdesk(["serve"], env)

        assert result.returncode == 1
        assert result.stderr.splitlines() == [
            f"ticketdesk: 127.0.0.1:{port} is already in use;"
            " choose another port with TICKETDESK_PORT or --port"
        ]
        assert result.stdout == ""  # before the first step: nothing was started

    @pytest.mark.parametrize(
        ("host", "address", "family", "shown"),
        [
            ("localhost", "127.0.0.1", socket.AF_INET, "localhost:{port}"),
            ("::1", "::1", socket.AF_INET6, "[::1]:{port}"),
        ],
        ids=["a name", "an IPv6 address"],
    )
    def test_any_host(
        self,
        host: str,
        address: str,
        family: socket.AddressFamily,
        shown: str,
        database_url: str,
        tmp_path: Path,
    ) -> None:
        with socket.create_server((address, 0), family=family) as taken:
            port = taken.getsockname()[1]
            env = {**_operator_env(database_url, tmp_path), "TICKETDESK_PORT": str(port)}

            result = _ticketdesk(["serve", "--host", host], env)

        assert result.returncode == 1
        assert result.stderr.splitlines() == [
            f"ticketdesk: {shown.format(port=port)} is already in use;"
            " choose another port with TICKETDESK_PORT or --port"
        ]

    def test_embedded_database_is_not_started(
        self, embedded_data_dir: Path, tmp_path: Path
    ) -> None:
        env = _operator_env("", tmp_path)
        del env["DATABASE_URL"], env["TICKETDESK_SECRET_KEY"]
        env["TICKETDESK_DATA_DIR"] = str(embedded_data_dir)
        with socket.create_server(("127.0.0.1", 0)) as taken:
            port = taken.getsockname()[1]

            result = _ticketdesk(["serve", "--port", str(port)], env)

        assert result.returncode == 1
        assert result.stderr.splitlines() == [
            f"ticketdesk: 127.0.0.1:{port} is already in use;"
            " choose another port with TICKETDESK_PORT or --port"
        ]
        assert not (embedded_data_dir / "postgres").exists()

    def test_held_from_the_first_step(
        self, silent_database: tuple[str, socket.socket], tmp_path: Path
    ) -> None:
        dsn, server = silent_database
        port = free_port()
        process = _start(["serve", "--port", str(port)], _operator_env(dsn, tmp_path))
        try:
            connection, _ = server.accept()  # it waits at the database step now
            with connection, socket.socket() as other:
                other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                with pytest.raises(OSError, match="Address already in use"):
                    other.bind(("127.0.0.1", port))
        finally:
            _interrupt(process, seconds=30)


class TestUnwritableDataDir:
    @pytest.mark.parametrize(
        ("command", "own_database"),
        [(["migrate"], False), (["worker"], False), (["serve"], False), (["serve"], True)],
        ids=["migrate", "worker", "serve", "serve with DATABASE_URL"],
    )
    def test_one_line_naming_it(
        self, command: list[str], own_database: bool, database_url: str, tmp_path: Path
    ) -> None:
        blocker = tmp_path / "a-file"
        blocker.write_text("not a directory\n")
        data_dir = blocker / "data"
        env = {
            **_operator_env(database_url, tmp_path),
            "TICKETDESK_DATA_DIR": str(data_dir),
            "TICKETDESK_PORT": str(free_port()),
        }
        if not own_database:  # the embedded PostgreSQL, in the data directory
            del env["DATABASE_URL"], env["TICKETDESK_SECRET_KEY"]

        result = _ticketdesk(command, env)

        assert result.returncode == 1
        assert result.stderr.splitlines() == [
            f"ticketdesk: cannot write to the data directory {data_dir}: Not a directory;"
            " choose another with TICKETDESK_DATA_DIR"
        ]

    def test_log_file(self, env: dict[str, str], tmp_path: Path) -> None:
        blocker = tmp_path / "a-file"
        blocker.write_text("not a directory\n")
        log = blocker / "logs" / "start.log"

        result = _ticketdesk(["--log-file", str(log), "migrate"], env)

        assert result.returncode == 1
        assert result.stderr.splitlines() == [
            f"ticketdesk: cannot write the log file {log}: Not a directory"
        ]

    def test_start_script(self, tmp_path: Path) -> None:
        blocker = tmp_path / "a-file"
        blocker.write_text("not a directory\n")
        env = {**os.environ, "TICKETDESK_DATA_DIR": str(blocker / "data")}
        # A copy of the script, beside a set-up that only says it ran: were the check
        # to let it through, it must not reinstall this checkout's .venv.
        scripts = tmp_path / "checkout" / "scripts"
        scripts.mkdir(parents=True)
        shutil.copy(ROOT / "scripts" / "start", scripts / "start")
        (scripts / "bootstrap").write_text("#!/bin/sh\necho 'set-up ran'\nexit 1\n")
        (scripts / "bootstrap").chmod(0o755)

        result = subprocess.run(
            [scripts / "start"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

        assert result.returncode == 1
        assert result.stderr.splitlines() == [
            f"ticketdesk: cannot write to the data directory {blocker / 'data'}:"
            " Not a directory; choose another with TICKETDESK_DATA_DIR"
        ]
        assert result.stdout == ""  # it stopped before the set-up


class TestUnwritableMetricsDir:
    @pytest.mark.parametrize("named", [True, False], ids=["missing", "empty"])
    def test_serve_refuses_to_start(self, named: bool, database_url: str, tmp_path: Path) -> None:
        missing = tmp_path / "metrics"
        env = {
            **_operator_env(database_url, tmp_path),
            "TICKETDESK_METRICS_TOKEN": "metrics-token-for-the-tests-0123",
            "PROMETHEUS_MULTIPROC_DIR": str(missing) if named else "",
            "TICKETDESK_PORT": str(free_port()),
        }

        result = _ticketdesk(["serve"], env)

        said = (
            f"cannot write to PROMETHEUS_MULTIPROC_DIR {missing}: No such file or directory;"
            " create it, or name another"
            if named
            else "PROMETHEUS_MULTIPROC_DIR is set but empty: name a directory, or unset it"
        )
        assert result.returncode == 1
        assert result.stderr.splitlines() == [f"ticketdesk: {said}"]

    def test_several_processes_need_it(self, database_url: str, tmp_path: Path) -> None:
        env = {
            **_operator_env(database_url, tmp_path),
            "TICKETDESK_METRICS_TOKEN": "metrics-token-for-the-tests-0123",
            "TICKETDESK_PORT": str(free_port()),
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)

        result = _ticketdesk(["serve", "--workers", "2"], env)

        assert result.returncode == 1
        assert result.stderr.splitlines() == [
            "ticketdesk: --workers 2 with metrics needs PROMETHEUS_MULTIPROC_DIR: an empty"
            " directory the server processes add up their figures in"
        ]


class TestCtrlCBeforeItIsUp:
    @pytest.mark.parametrize("command", DATABASE_COMMANDS.values(), ids=DATABASE_COMMANDS.keys())
    def test_quiet_with_status_130(
        self, command: list[str], silent_database: tuple[str, socket.socket], tmp_path: Path
    ) -> None:
        dsn, server = silent_database
        env = {**_operator_env(dsn, tmp_path), "TICKETDESK_PORT": str(free_port())}
        process = _start(command, env)
        try:
            connection, _ = server.accept()  # it waits for the database to answer
        except BaseException:
            _interrupt(process, seconds=30)
            raise
        with connection:
            output, errors = _interrupt(process, seconds=30)

        assert (process.returncode, output, errors) == (130, "", "")

    def test_embedded_database_starting(self, embedded_data_dir: Path, tmp_path: Path) -> None:
        env = _embedded_env(embedded_data_dir, tmp_path)
        set_up = _ticketdesk(["migrate"], env)  # the cluster exists: serve only starts it
        assert set_up.returncode == 0, set_up.stderr
        log = tmp_path / "start.log"
        process = _start(["--log-file", str(log), "serve", "--port", str(free_port())], env)
        try:
            _wait_for_line(log, "starting embedded PostgreSQL", process)
        finally:
            output, errors = _interrupt(process, seconds=60)

        assert process.returncode == 130
        assert "Traceback" not in output + errors
        assert "failed" not in output  # not a failure: a stop
        # Cut short, the data directory still works: the next command starts the server
        # (or uses the one left starting, if Ctrl-C came before its lock file), and stops
        # it when done.
        migrated = _ticketdesk(["migrate"], env)
        assert (migrated.returncode, migrated.stderr) == (0, "")
        assert _postgres_left_running(embedded_data_dir, seconds=10) == []

    def test_embedded_database_first_set_up(self, embedded_data_dir: Path, tmp_path: Path) -> None:
        env = _embedded_env(embedded_data_dir, tmp_path)
        log = tmp_path / "start.log"
        process = _start(["--log-file", str(log), "serve", "--port", str(free_port())], env)
        partial = embedded_data_dir / "postgres.partial"
        try:
            _wait_for_line(log, f"initializing embedded PostgreSQL in {partial}", process)
        finally:
            output, errors = _interrupt(process, seconds=60)

        assert process.returncode == 130
        assert "Traceback" not in output + errors
        assert "failed" not in output
        # Nothing half-made where a whole cluster is looked for.
        assert not (embedded_data_dir / "postgres" / "PG_VERSION").exists()
        migrated = _ticketdesk(["migrate"], env)
        assert (migrated.returncode, migrated.stderr) == (0, "")
        assert migrated.stdout.startswith("applied: ")
        assert (embedded_data_dir / "postgres" / "PG_VERSION").exists()
        assert _postgres_left_running(embedded_data_dir, seconds=10) == []


def _embedded_env(data_dir: Path, tmp_path: Path) -> dict[str, str]:
    """An operator's environment without a database: the embedded one, in ``data_dir``."""
    env = _operator_env("", tmp_path)
    del env["DATABASE_URL"], env["TICKETDESK_SECRET_KEY"]
    env["TICKETDESK_DATA_DIR"] = str(data_dir)
    return env


def _wait_for_line(log: Path, text: str, process: subprocess.Popen[str]) -> None:
    """Wait until ``log`` holds ``text``; fail if the process exits or a minute passes."""
    deadline = time.monotonic() + 60
    while text not in (log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline, f"never logged: {text}"
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)


class TestEmbeddedDataDir:
    def test_an_existing_cluster_is_used_as_it_is(
        self, embedded_data_dir: Path, tmp_path: Path
    ) -> None:
        env = _embedded_env(embedded_data_dir, tmp_path)
        first = _ticketdesk(["migrate"], env)
        assert first.returncode == 0, first.stderr
        pgdata = embedded_data_dir / "postgres"
        before = (pgdata.stat().st_ino, (pgdata / "PG_VERSION").read_text())
        log = tmp_path / "again.log"

        again = _ticketdesk(["--log-file", str(log), "migrate"], env)

        assert (again.returncode, again.stdout, again.stderr) == (
            0,
            "the schema is up to date\n",
            "",
        )
        assert (pgdata.stat().st_ino, (pgdata / "PG_VERSION").read_text()) == before
        assert "initializing" not in log.read_text()
        assert not (embedded_data_dir / "postgres.partial").exists()

    def test_a_directory_holding_something_else(
        self, embedded_data_dir: Path, tmp_path: Path
    ) -> None:
        pgdata = embedded_data_dir / "postgres"
        pgdata.mkdir(parents=True)
        (pgdata / "notes.txt").write_text("not a cluster\n")

        result = _ticketdesk(["migrate"], _embedded_env(embedded_data_dir, tmp_path))

        assert result.returncode == 1
        assert result.stderr.splitlines() == [
            f"ticketdesk: {pgdata} holds files but no PostgreSQL cluster (it has no"
            " PG_VERSION); remove that directory, or move it elsewhere, and the next start"
            " creates one"
        ]
        assert (pgdata / "notes.txt").read_text() == "not a cluster\n"
        assert not (embedded_data_dir / "postgres.partial").exists()

    def test_a_stale_lock_file_naming_another_process(
        self, embedded_data_dir: Path, tmp_path: Path
    ) -> None:
        # After a reboot, the process id in a lock file left behind may be another
        # program's now.
        partial = embedded_data_dir / "postgres.partial"
        partial.mkdir(parents=True)
        with subprocess.Popen(["sleep", "120"]) as other:
            try:
                (partial / "postmaster.pid").write_text(f"{other.pid}\n{partial}\n")

                result = _ticketdesk(["migrate"], _embedded_env(embedded_data_dir, tmp_path))

                assert (result.returncode, result.stderr) == (0, "")
                assert other.poll() is None  # not stopped
            finally:
                other.kill()

    def test_two_commands_on_a_new_data_dir(self, embedded_data_dir: Path, tmp_path: Path) -> None:
        env = _embedded_env(embedded_data_dir, tmp_path)
        first, second = (_start(["migrate"], env) for _ in range(2))
        results = [(p, *p.communicate(timeout=120)) for p in (first, second)]

        assert [(p.returncode, errors) for p, _, errors in results] == [(0, ""), (0, "")]
        outputs = sorted(output for _, output, _ in results)
        assert outputs[0].startswith("applied: ")
        assert outputs[1] == "the schema is up to date\n"
        assert _postgres_left_running(embedded_data_dir, seconds=10) == []


class TestDatabaseRefuses:
    @pytest.mark.parametrize("command", DATABASE_COMMANDS.values(), ids=DATABASE_COMMANDS.keys())
    def test_no_such_database(self, command: list[str], server_dsn: str, tmp_path: Path) -> None:
        dsn = make_conninfo(server_dsn, dbname="ticketdesk_no_such_database")

        result = _ticketdesk(command, _operator_env(dsn, tmp_path))

        assert result.returncode == 1
        assert result.stderr.splitlines() == [
            f"ticketdesk: cannot connect to the database at {_where(dsn)}:"
            ' database "ticketdesk_no_such_database" does not exist'
        ]

    def test_unknown_host(self, tmp_path: Path) -> None:
        dsn = "postgresql://ops:pw-s3cret@ticketdesk-db.invalid:5432/ticketdesk"

        result = _ticketdesk(["migrate"], _operator_env(dsn, tmp_path))

        assert result.returncode == 1
        [line] = result.stderr.splitlines()
        assert line.startswith(
            "ticketdesk: cannot connect to the database at ticketdesk-db.invalid:5432/ticketdesk:"
            " failed to resolve host 'ticketdesk-db.invalid'"
        )
        assert "pw-s3cret" not in result.stdout + result.stderr


class TestVerbose:
    def test_shows_all_the_log_file_gets(self, database_url: str, tmp_path: Path) -> None:
        env = {**_operator_env(database_url, tmp_path), "TICKETDESK_LOG_LEVEL": "warning"}
        log = tmp_path / "start.log"
        process = _start(["-v", "--log-file", str(log), "worker"], env)
        try:
            deadline = time.monotonic() + 60
            while "Starting worker" not in (log.read_text() if log.exists() else ""):
                assert time.monotonic() < deadline, "the worker never started"
                assert process.poll() is None, process.communicate()
                time.sleep(0.05)
        finally:
            output, errors = _interrupt(process, seconds=60)

        assert process.returncode == 0
        assert "  ticketdesk worker is running jobs. Press Ctrl-C to stop." in output
        logged = log.read_text().splitlines()
        assert any(" INFO procrastinate." in line for line in logged)  # below log_level
        assert [line for line in logged if line not in errors.splitlines()] == []
