"""Secrets never logged: a whole run of ticketdesk, every log record read for them.

ticketdesk is served as ``ticketdesk serve`` serves it (uvicorn, the worker in-process)
and driven over HTTP through sign-up and sign-in with a password, a session's cookies, a
personal access token, a password reset, webhook endpoints (one signed, one Slack's, whose
URL is the credential) and their deliveries, GitHub (its token, and a signed delivery
from it) and mail (an SMTP server that wants a password, a reply by mail to a signed
reply address, read from an IMAP mailbox with its password, and unsubscribe links).
Prometheus scrapes /metrics with its token, and logs are JSON. Every logger is heard at
DEBUG; each record, its arguments, its traceback and its JSON line must hold none of the
secrets the run used or made.

Left out, as not ticketdesk's: what the test's own HTTP client logs (httpx and httpcore on
the main thread; the server and its worker run in another) and what the stand-in SMTP
server logs of the mail and password it took (aiosmtpd's ``mail.log``).
"""

import hashlib
import hmac
import json
import logging
import re
import secrets
import socket
import threading
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from tests.factories import make_user, ticket_body
from tests.fakes.github import FakeGitHub
from tests.github.support import PAYLOAD_REPO, fixture_json
from tests.jobs.waiting import eventually
from tests.mailservers import DovecotMissing, ImapServer, SmtpServer
from tests.servers import serving
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import ALL_EVENTS
from ticketdesk.app import create_app
from ticketdesk.auth import service as auth
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.telemetry import JsonFormatter

SMTP_USER = "desk"
SMTP_PASSWORD = f"smtp-{secrets.token_hex(12)}"
SUPPORT = "support@example.com"
IMAP_PASSWORD = f"imap-{secrets.token_hex(12)}"
GITHUB_TOKEN = f"ghp_{secrets.token_hex(18)}"
GITHUB_WEBHOOK_SECRET = f"ghwh-{secrets.token_hex(16)}"
METRICS_TOKEN = f"metrics-{secrets.token_hex(12)}"
PASSWORD = f"first passphrase {secrets.token_hex(6)}"
WRONG_PASSWORD = f"wrong passphrase {secrets.token_hex(6)}"
NEW_PASSWORD = f"second passphrase {secrets.token_hex(6)}"
# conftest's settings fixture signs sessions, links and reply addresses with this.
SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"
RESET_LINK = re.compile(r"#token=([A-Za-z0-9_-]+)")
UNSUBSCRIBE = re.compile(r"<https?://[^>]*/api/v1/notifications/unsubscribe/([^>]+)>")
# Not ticketdesk's: what the stand-in SMTP server logs about what it received, and what
# the test's HTTP client (on the main thread) logs about what it sent and was sent.
STAND_IN_LOGGERS = ("mail.log",)
TEST_CLIENT_LOGGERS = ("httpx", "httpcore")


class _Kept(logging.Handler):
    """Keeps every record it is handed."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._lock_records = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock_records:
            self.records.append(record)


class _Hearing:
    """Every logger at DEBUG into one handler, and back as it was afterwards."""

    def __init__(self) -> None:
        self.kept = _Kept()
        self._saved: dict[logging.Logger, tuple[int, bool]] = {}
        self._handled: list[logging.Logger] = []

    def everything(self) -> None:
        """Hear every logger there is now (again: uvicorn sets its own up as it starts)."""
        loggers = [logging.getLogger()] + [
            logger
            for logger in logging.root.manager.loggerDict.values()
            if isinstance(logger, logging.Logger)
        ]
        for logger in loggers:
            self._saved.setdefault(logger, (logger.level, logger.disabled))
            logger.setLevel(logging.DEBUG)
            logger.disabled = False
            on_its_own = logger is logging.getLogger() or not logger.propagate
            if on_its_own and self.kept not in logger.handlers:
                logger.addHandler(self.kept)
                self._handled.append(logger)

    def restore(self) -> None:
        """Leave logging as it was found."""
        for logger in self._handled:
            logger.removeHandler(self.kept)
        for logger, (level, disabled) in self._saved.items():
            logger.setLevel(level)
            logger.disabled = disabled

    def ticketdesk_lines(self) -> list[str]:
        """Each record ticketdesk made, as all the text it carries."""
        formatter = logging.Formatter()
        json_lines = JsonFormatter()
        lines = []
        for record in self.kept.records:
            if record.name in STAND_IN_LOGGERS:
                continue
            if record.threadName == "MainThread" and record.name.startswith(TEST_CLIENT_LOGGERS):
                continue
            parts = [record.getMessage(), repr(record.args), repr(record.msg)]
            if record.exc_info:
                parts.append(formatter.formatException(record.exc_info))
            if record.exc_text:
                parts.append(record.exc_text)
            if record.stack_info:
                parts.append(record.stack_info)
            parts.append(repr({k: v for k, v in vars(record).items() if k != "exc_info"}))
            parts.append(json_lines.format(record))
            lines.append(f"{record.name}: " + "\n".join(parts))
        return lines


@pytest.fixture
def hearing() -> Iterator[_Hearing]:
    """All logging kept, from before the app starts to the end of the test."""
    hearing = _Hearing()
    hearing.everything()
    try:
        yield hearing
    finally:
        hearing.restore()


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    """A fake GitHub that takes this run's token only."""
    with FakeGitHub(GITHUB_TOKEN) as fake:
        yield fake


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """An SMTP server that wants a user name and password."""
    server = SmtpServer(username=SMTP_USER, password=SMTP_PASSWORD)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def imap_server() -> Iterator[ImapServer]:
    """The support mailbox replies by mail arrive in."""
    try:
        server = ImapServer(user=SUPPORT, password=IMAP_PASSWORD)
    except DovecotMissing as exc:
        pytest.fail(f"this test needs Dovecot: {exc}")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings_overrides(
    gh: FakeGitHub, smtp_server: SmtpServer, imap_server: ImapServer
) -> dict[str, Any]:
    """GitHub, mail both ways and webhooks all on, each at its stand-in."""
    return {
        # http: the session's cookies are then not marked Secure, and the test's plain
        # HTTP client sends them back.
        "base_url": "http://desk.example.com",
        "log_format": "json",
        "metrics_token": METRICS_TOKEN,
        "smtp_url": smtp_server.url,
        "mail_from": f"Help Desk <{SUPPORT}>",
        "imap_url": imap_server.url,
        "notifications": {"burst_seconds": 0.2},
        "tickets": {
            "github": {
                "enabled": True,
                "repo": PAYLOAD_REPO,
                "token": GITHUB_TOKEN,
                "api_url": gh.base_url,
                "auto_create_issues": True,
                "webhook_secret": GITHUB_WEBHOOK_SECRET,
                "timeout_seconds": 2.0,
            }
        },
        "webhooks": {
            "allow_private_targets": True,
            "timeout_seconds": 2.0,
            "retry_base_seconds": 0.05,
            "retry_cap_seconds": 0.2,
        },
        "jobs": {
            "poll_interval_seconds": 0.1,
            "retry_base_seconds": 0.1,
            "retry_cap_seconds": 0.3,
        },
    }


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


async def _mail_to(smtp_server: SmtpServer, address: str, count: int) -> list[EmailMessage]:
    async def arrived() -> list[EmailMessage] | None:
        mine = [m for m in smtp_server.messages if address in str(m["To"])]
        return mine if len(mine) >= count else None

    return await eventually(arrived, what=f"{count} mails to {address}")


async def test_a_whole_run_logs_no_secret(
    hearing: _Hearing,
    settings: Settings,
    conn: Connection,
    gh: FakeGitHub,
    smtp_server: SmtpServer,
    imap_server: ImapServer,
    receiver: Receiver,
) -> None:
    # Every secret the run uses or is given.
    used: list[str] = [
        SMTP_PASSWORD,
        IMAP_PASSWORD,
        GITHUB_TOKEN,
        GITHUB_WEBHOOK_SECRET,
        PASSWORD,
        WRONG_PASSWORD,
        NEW_PASSWORD,
        SECRET_KEY,
        METRICS_TOKEN,
    ]
    admin = await make_user(conn, role="admin", name="Ada Admin")
    admin_token = (await auth.create_token(conn, admin.id, "ops")).token
    used.append(admin_token)
    as_admin = {"Authorization": f"Bearer {admin_token}"}
    app = create_app(settings, worker=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        with serving(app, sock) as url:
            hearing.everything()
            async with (
                httpx.AsyncClient(base_url=f"{url}/api/v1") as api,
                httpx.AsyncClient(base_url=f"{url}/api/v1") as browser,
            ):
                # A webhook endpoint, its signing secret shown once.
                hook = await api.post(
                    "/webhooks",
                    json={"name": "Ops", "url": receiver.url, "events": ALL_EVENTS},
                    headers=as_admin,
                )
                assert hook.status_code == 201, hook.text
                used.append(hook.json()["secret"])
                # A Slack endpoint: its URL is the credential.
                slack_key = secrets.token_urlsafe(18)
                slack = await api.post(
                    "/webhooks",
                    json={
                        "name": "Team chat",
                        "url": f"{receiver.url}/services/T0001/B0002/{slack_key}",
                        "events": ["ticket.created"],
                        "format": "slack",
                    },
                    headers=as_admin,
                )
                assert slack.status_code == 201, slack.text
                used.append(slack_key)

                # Sign-up, a wrong password, sign-in: the session lives in cookies.
                email = f"nina-{uuid.uuid4().hex[:6]}@example.com"
                signup = await browser.post(
                    "/auth/signup", json={"email": email, "password": PASSWORD, "name": "Nina"}
                )
                assert signup.status_code == 201, signup.text
                csrf = {"X-CSRF-Token": browser.cookies["ticketdesk_csrf"]}
                assert (await browser.post("/auth/logout", headers=csrf)).status_code == 204
                wrong = await browser.post(
                    "/auth/login", json={"email": email, "password": WRONG_PASSWORD}
                )
                assert wrong.status_code == 401
                login = await browser.post(
                    "/auth/login", json={"email": email, "password": PASSWORD}
                )
                assert login.status_code == 200, login.text
                used.extend(browser.cookies.values())
                csrf = {"X-CSRF-Token": browser.cookies["ticketdesk_csrf"]}

                # A personal access token, made in the session and used as a header.
                made = await browser.post("/me/tokens", json={"name": "ci"}, headers=csrf)
                assert made.status_code == 201, made.text
                token = made.json()["token"]
                used.append(token)
                as_nina = {"Authorization": f"Bearer {token}"}
                bad = await api.get("/me", headers={"Authorization": f"Bearer {token}x"})
                assert bad.status_code == 401

                # A ticket: a GitHub issue, a webhook delivery, mails; then a staff reply.
                # GitHub and the receiver each fail once first: errors are logged too.
                gh.fail_next(1, status=502)
                receiver.plan.append((500, 0.0))
                created = await api.post("/tickets", json=ticket_body(), headers=as_nina)
                assert created.status_code == 201, created.text
                ticket = created.json()
                replied = await api.post(
                    f"/tickets/{ticket['id']}/comments",
                    json={"comment": "Fixed in the next release."},
                    headers=as_admin,
                )
                assert replied.status_code == 201, replied.text

                async def issue_number() -> int | None:
                    detail = await api.get(f"/tickets/{ticket['id']}", headers=as_admin)
                    number: int | None = detail.json()["github_issue_number"]
                    return number

                number = await eventually(issue_number, what="the GitHub issue")

                async def delivered() -> bool:
                    # ticket.created (failed once, then delivered) and ticket.commented to
                    # one endpoint, ticket.created to the other.
                    return len(receiver.received) >= 4

                await eventually(delivered, what="four webhook deliveries")
                used.extend(
                    r.headers["webhook-signature"]
                    for r in receiver.received
                    if "webhook-signature" in r.headers
                )

                # GitHub tells of a comment, signed with the webhook secret.
                payload = fixture_json("issue_comment/created")
                payload["issue"]["number"] = number
                payload["comment"]["body"] = "Seen on GitHub too."
                body = json.dumps(payload).encode()
                signature = hmac.new(
                    GITHUB_WEBHOOK_SECRET.encode(), body, hashlib.sha256
                ).hexdigest()
                used.append(signature)
                hooked = await api.post(
                    "/integrations/github/webhook",
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        "X-GitHub-Event": "issue_comment",
                        "X-GitHub-Delivery": str(uuid.uuid4()),
                        "X-Hub-Signature-256": f"sha256={signature}",
                    },
                )
                assert hooked.status_code == 200, hooked.text

                # Mail: the reply came with a signed reply address and unsubscribe link.
                reply_mail = next(
                    m
                    for m in await _mail_to(smtp_server, email, 2)
                    if "Fixed in the next release." in _text(m)
                )
                reply_to = str(reply_mail["Reply-To"])
                used.append(reply_to.split("@")[0].split("+")[1].rstrip(">"))
                unsubscribe = UNSUBSCRIBE.search(str(reply_mail["List-Unsubscribe"]))
                assert unsubscribe is not None
                used.append(unsubscribe[1])
                # Nina answers that mail; the answer is read from the mailbox.
                answer = EmailMessage()
                answer["From"] = email
                answer["To"] = reply_to
                answer["Subject"] = f"Re: {reply_mail['Subject']}"
                answer["In-Reply-To"] = reply_mail["Message-ID"]
                answer.set_content("Thanks, that works now.")
                imap_server.deliver(bytes(answer))

                async def answered() -> bool:
                    listed = await api.get(f"/tickets/{ticket['id']}/comments", headers=as_admin)
                    return "Thanks, that works now." in listed.text

                await eventually(answered, what="the answer by mail on the ticket")

                clicked = await api.get(f"/notifications/unsubscribe/{unsubscribe[1]}")
                assert clicked.status_code == 303, clicked.text
                await browser.get(f"{url}/unsubscribe/{unsubscribe[1]}")  # the page it leads to
                one_click = await api.post(f"/notifications/unsubscribe/{unsubscribe[1]}")
                assert one_click.status_code == 200, one_click.text

                # Prometheus scrapes, and someone guesses.
                scraped = await api.get(
                    f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
                )
                assert scraped.status_code == 200, scraped.text
                guessed = await api.get(
                    f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}0"}
                )
                assert guessed.status_code == 403

                # A password reset by mailed link, then signing in with the new password.
                sent = len(await _mail_to(smtp_server, email, 1))
                asked = await api.post("/auth/password-reset", json={"email": email})
                assert asked.status_code == 202, asked.text
                reset_mail = (await _mail_to(smtp_server, email, sent + 1))[-1]
                link = RESET_LINK.search(_text(reset_mail))
                assert link is not None
                used.append(link[1])
                confirmed = await api.post(
                    "/auth/password-reset/confirm",
                    json={"token": link[1], "password": NEW_PASSWORD},
                )
                assert confirmed.status_code == 204, confirmed.text
                again = await api.post(
                    "/auth/login", json={"email": email, "password": NEW_PASSWORD}
                )
                assert again.status_code == 200, again.text
                used.extend(again.cookies.values())

    lines = hearing.ticketdesk_lines()
    # The run was heard: the app, uvicorn's access log and the outbound HTTP calls.
    assert any("POST /api/v1/auth/login" in line for line in lines)
    assert any(line.startswith("ticketdesk.access:") for line in lines)
    assert any(line.startswith("httpx:") for line in lines)
    assert any("Traceback" in line for line in lines)
    leaks = [(secret, line) for secret in used for line in lines if secret and secret in line]
    assert leaks == []
