"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, keeping what it receives.

``SmtpServer`` accepts mail like any server would, and can be told to refuse it
(``refuse(550)``), or be stopped and started again on the same port, as a mail server
that goes down and comes back.
"""

import socket
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

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
            self.server.arrived.notify_all()
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
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

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
