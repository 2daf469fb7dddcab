"""Real mail servers for tests: SMTP (aiosmtpd) and IMAP (Dovecot), on 127.0.0.1.

``SmtpServer`` accepts mail like any server would, and can be told to refuse it
(``refuse(550)``), or be stopped and started again on the same port, as a mail server
that goes down and comes back.
"""

import asyncio
import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class Received:
    """One message as the server received it: its envelope and its parsed content."""

    sender: str
    recipients: list[str]
    message: EmailMessage


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _Handler:
    def __init__(self, server: "SmtpServer") -> None:
        self.server = server

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        refusal = self.server.refusal
        if refusal is not None:
            return f"{refusal} Refused by the test server"
        content = envelope.original_content or b""
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.server.arrived:
            self.server.received.append(
                Received(str(envelope.mail_from), list(envelope.rcpt_tos), message)
            )
            held = not self.server.answering.is_set()
            self.server.held += held
            self.server.arrived.notify_all()
        if held:  # kept, as an MTA queues a message before it answers that it took it
            await asyncio.to_thread(self.server.answering.wait)
        return "250 OK"


class SmtpServer:
    """An SMTP server on 127.0.0.1; ``url`` is what ``smtp_url`` should say."""

    def __init__(self, *, username: str | None = None, password: str | None = None) -> None:
        self.port = free_port()
        self.username = username
        self.password = password
        self.received: list[Received] = []
        self.arrived = threading.Condition()
        # An SMTP reply code every message gets instead of 250, e.g. 550 or 451.
        self.refusal: int | None = None
        # Cleared by ``hold``: messages wait, unanswered, until ``release``.
        self.answering = threading.Event()
        self.answering.set()
        self.held = 0
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        """The ``smtp://`` URL ticketdesk reaches this server at."""
        credentials = f"{self.username}:{self.password}@" if self.username else ""
        return f"smtp://{credentials}127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        """The messages received so far, in order."""
        with self.arrived:
            return [received.message for received in self.received]

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth: Any
    ) -> AuthResult:
        if (
            isinstance(auth, LoginPassword)
            and auth.login.decode() == self.username
            and auth.password.decode() == self.password
        ):
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def start(self) -> None:
        """Listen (again) on this server's port."""
        options: dict[str, Any] = {}
        if self.username is not None:
            options = {"authenticator": self._authenticate, "auth_require_tls": False}
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, **options
        )
        self._controller.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until ``start``."""
        self.answering.set()
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def hold(self) -> None:
        """Keep each message, and hold back the answer that it was taken, until
        ``release``; ``held`` counts them. The message stays kept whatever becomes of the
        client meanwhile, as with an MTA that queued it before its answer went out."""
        self.answering.clear()

    def release(self) -> None:
        """Answer the held messages, and every later one, at once."""
        self.answering.set()

    def refuse(self, code: int | None) -> None:
        """Answer every message with ``code`` (``None``: accept again)."""
        self.refusal = code

    def wait_for(self, count: int, timeout: float = 15.0) -> list[EmailMessage]:
        """The first ``count`` messages, waiting up to ``timeout`` seconds for them."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} messages, the server received {len(self.received)}"
                    )
                self.arrived.wait(left)
            return [received.message for received in self.received[:count]]


# --- IMAP: Dovecot --------------------------------------------------------------------

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"

_DOVECOT_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{root}/mail/%n
mail_uid = {mail_user}
mail_gid = {mail_group}
{unprivileged}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = home={root}/mail/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


class DovecotMissing(Exception):
    """Dovecot is not installed (Debian: apt-get install dovecot-imapd)."""


class ImapServer:
    """Dovecot serving one mailbox over plain IMAP on 127.0.0.1, with a config of its own.

    Everything it keeps (config, passwd-file, maildirs, sockets, log) is under a temporary
    directory; nothing of the system's Dovecot set-up is read. ``url`` is what
    ``imap_url`` should say; ``deliver`` puts a message in the mailbox as an MTA would.
    """

    def __init__(self, *, user: str = "support@example.com", password: str = "imap-secret-42"):
        if not os.path.exists(DOVECOT):
            raise DovecotMissing(f"{DOVECOT} is missing: apt-get install dovecot-imapd")
        self.user = user
        self.password = password
        self.port = free_port()
        # Short: Dovecot's sockets live under it, and socket paths are limited to 108 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="td-imap-", dir="/tmp"))
        # Dovecot's own processes (its users, when started as root) read the passwd-file.
        self.root.chmod(0o755)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The ``imap://`` URL ticketdesk reads this mailbox at."""
        credentials = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        return f"imap://{credentials}@127.0.0.1:{self.port}/INBOX"

    def _config(self) -> Path:
        (self.root / "mail").mkdir(exist_ok=True)
        (self.root / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}::::\n")
        if os.geteuid() == 0:
            # Dovecot never reads mail as root: the mail belongs to its own system user.
            mail_user = mail_group = "dovecot"
            shutil.chown(self.root / "mail", "dovecot", "dovecot")
            unprivileged = ""
        else:
            mail_user, mail_group = (
                pwd.getpwuid(os.getuid()).pw_name,
                grp.getgrgid(os.getgid()).gr_name,
            )
            unprivileged = (
                f"default_internal_user = {mail_user}\ndefault_internal_group = {mail_group}\n"
                f"default_login_user = {mail_user}\n"
            )
        config = self.root / "dovecot.conf"
        config.write_text(
            _DOVECOT_CONFIG.format(
                root=self.root,
                port=self.port,
                mail_user=mail_user,
                mail_group=mail_group,
                unprivileged=unprivileged,
            )
        )
        return config

    def start(self) -> None:
        """Start Dovecot in the foreground of a child process and wait until it listens."""
        config = self._config()
        self._process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                error = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(f"dovecot exited: {error}{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not listen on port {self.port}: {self.log()}")

    def stop(self) -> None:
        """Stop Dovecot and remove everything it kept."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stderr:
                self._process.stderr.close()
            self._process = None
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        """What Dovecot logged so far."""
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(self.user, self.password)
        return client

    def deliver(self, raw: bytes) -> None:
        """Put a message in the mailbox, unseen, as a delivering MTA would."""
        client = self._client()
        try:
            status, _ = client.append("INBOX", "", None, raw)  # type: ignore[arg-type]
            assert status == "OK"
        finally:
            client.logout()

    def unseen(self) -> int:
        """How many messages in the mailbox are not marked seen."""
        client = self._client()
        try:
            client.select("INBOX", readonly=True)
            status, data = client.search(None, "UNSEEN")
            assert status == "OK"
            return len(data[0].split())
        finally:
            client.logout()
