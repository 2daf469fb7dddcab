"""``ticketdesk mail ingest``: one mail on standard input, as Postfix or Exim pipe it.

The exit code is what the MTA acts on: 0 taken in (posted, ignored, refused, or kept for
admins), 75 (EX_TEMPFAIL) keep the mail and try again later, whatever went wrong. Nothing
is bounced: a refused mail's sender is often forged.
"""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.factories import Accounts, create_ticket
from tests.mailbox.mailroom import (
    SUPPORT,
    conversation,
    inbound,
    mail,
    padded,
    poisoned,
    reply_values,
)
from ticketdesk.config import Settings
from ticketdesk.db import Connection

INGEST = [sys.executable, "-m", "ticketdesk", "mail", "ingest"]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """No mailbox: mail comes in through the pipe."""
    return {"mail_from": f"Ticketdesk <{SUPPORT}>"}


@pytest.fixture
def env(settings: Settings, database_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment of the MTA's pipe command: ticketdesk's settings."""
    assert settings.secret_key is not None
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "TICKETDESK_DATA_DIR": str(settings.data_dir),
        "TICKETDESK_SECRET_KEY": settings.secret_key.get_secret_value(),
        "TICKETDESK_MAIL_FROM": settings.mail_from,
        "TICKETDESK_LOG_LEVEL": "warning",
    }


def _ingest(raw: bytes, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        INGEST, input=raw.decode(), env=env, capture_output=True, text=True, timeout=60
    )


class TestIngest:
    async def test_reply_posted(
        self, settings: Settings, env: dict[str, str], accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        raw = mail("thunderbird-reply.eml", **reply_values(settings, ticket, accounts.alice))

        first = _ingest(raw, env)
        again = _ingest(raw, env)

        assert (first.returncode, first.stderr) == (0, "")
        assert first.stdout.startswith("posted: message ")
        assert (again.returncode, again.stderr) == (0, "")
        assert again.stdout.startswith("already taken in: message ")
        [comment] = await conversation(accounts.agent, ticket)
        assert comment["body"].startswith("Thanks — clearing the browser cache fixed the export.")

    async def test_poisoned_headers_then_a_good_mail(
        self, settings: Settings, env: dict[str, str], accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        good = mail("thunderbird-reply.eml", **reply_values(settings, ticket, accounts.alice))

        first = _ingest(poisoned(good), env)
        second = _ingest(good, env)

        assert (first.returncode, first.stderr) == (0, "")
        assert (second.returncode, second.stderr) == (0, "")
        assert second.stdout.startswith("posted: message ")
        assert len(await conversation(accounts.agent, ticket)) == 2

    async def test_too_large_refused_unread(
        self, settings: Settings, env: dict[str, str], accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        good = mail("thunderbird-reply.eml", **reply_values(settings, ticket, accounts.alice))
        # Five files of 1 MB at most, base64-encoded, and a megabyte: about 7.7 MB.
        large = padded(good, 8 * 1024 * 1024)

        result = _ingest(large, {**env, "TICKETS_MAX_ATTACHMENT_SIZE_MB": "1"})

        assert (result.returncode, result.stderr) == (0, "")
        assert result.stdout.startswith(f"refused (too large: {len(large)} bytes, at most ")
        assert await conversation(accounts.agent, ticket) == []

    async def test_auto_reply_accepted_and_ignored(
        self, settings: Settings, env: dict[str, str], accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        raw = mail("out-of-office.eml", **reply_values(settings, ticket, accounts.alice))

        result = _ingest(raw, env)

        assert result.returncode == 0
        assert result.stdout.startswith("ignored (an automatic message")
        assert await conversation(accounts.agent, ticket) == []

    async def test_stranger_refused_without_a_bounce(
        self, settings: Settings, env: dict[str, str], accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        values = reply_values(settings, ticket, accounts.alice)
        raw = mail("gmail-reply.eml", **{**values, "sender": "mallory@example.org"})

        result = _ingest(raw, env)

        assert (result.returncode, result.stderr) == (0, "")
        assert result.stdout.startswith(
            "refused (mallory@example.org has no account here): message "
        )
        assert len(await inbound(accounts, "refused")) == 1

    async def test_failure_kept_for_admins(
        self, settings: Settings, env: dict[str, str], accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        blocker = settings.data_dir / "attachments" / "tickets" / str(ticket.id)
        blocker.parent.mkdir(parents=True)
        blocker.write_text("not a folder")
        raw = mail("with-attachment.eml", **reply_values(settings, ticket, accounts.alice))

        result = _ingest(raw, env)

        assert result.returncode == 0
        # After the warnings logged on the way, one line for the MTA's log.
        last = result.stderr.splitlines()[-1]
        assert last.startswith("ticketdesk: kept as message 1 for admins: GenericError: ")
        assert len(await inbound(accounts, "failed")) == 1

    def test_database_unreachable_is_a_temporary_failure(
        self, env: dict[str, str], unused_tcp_port: int
    ) -> None:
        raw = mail("new-request.eml", sender="alice@example.com", sender_name="A", subject="Hi")
        down = f"postgresql://postgres@127.0.0.1:{unused_tcp_port}/ticketdesk"

        result = _ingest(raw, {**env, "DATABASE_URL": down})

        assert result.returncode == 75
        assert result.stderr.startswith(
            f"ticketdesk: cannot connect to the database at 127.0.0.1:{unused_tcp_port}/ticketdesk"
        )
        assert len(result.stderr.splitlines()) == 1

    def test_without_database_url_is_a_temporary_failure(self, env: dict[str, str]) -> None:
        raw = mail("new-request.eml", sender="alice@example.com", sender_name="A", subject="Hi")
        without = {key: value for key, value in env.items() if key != "DATABASE_URL"}

        result = _ingest(raw, without)

        assert result.returncode == 75
        assert result.stderr == "ticketdesk: mail ingest needs DATABASE_URL; try again later\n"

    def test_without_the_secret_key_is_a_temporary_failure(self, env: dict[str, str]) -> None:
        raw = mail("new-request.eml", sender="alice@example.com", sender_name="A", subject="Hi")
        without = {key: value for key, value in env.items() if key != "TICKETDESK_SECRET_KEY"}

        result = _ingest(raw, without)

        assert result.returncode == 75
        assert result.stderr == (
            "ticketdesk: invalid configuration: secret_key (TICKETDESK_SECRET_KEY):"
            " required when database_url (DATABASE_URL) is set\n"
        )

    def test_invalid_settings_are_a_temporary_failure(self, env: dict[str, str]) -> None:
        raw = mail("new-request.eml", sender="alice@example.com", sender_name="A", subject="Hi")

        result = _ingest(raw, {**env, "TICKETDESK_MAIL_OPEN_TICKETS": "sometimes"})

        assert result.returncode == 75
        assert result.stderr.startswith("ticketdesk: invalid configuration")
        assert "mail" in result.stderr
        assert len(result.stderr.splitlines()) == 1

    def test_anything_unexpected_is_a_temporary_failure(
        self, env: dict[str, str], tmp_path: Path
    ) -> None:
        raw = mail("new-request.eml", sender="alice@example.com", sender_name="A", subject="Hi")
        not_a_folder = tmp_path / "data"
        not_a_folder.write_text("a file where the data directory should be")

        result = _ingest(raw, {**env, "TICKETDESK_DATA_DIR": str(not_a_folder)})

        assert result.returncode == 75
        assert result.stderr.startswith("ticketdesk: OSError: ")
        assert result.stderr.endswith("; try again later\n")
        assert len(result.stderr.splitlines()) == 1

    def test_nothing_on_standard_input(self, env: dict[str, str]) -> None:
        result = _ingest(b"", env)

        assert result.returncode == 65
        assert result.stderr == "ticketdesk: no message on standard input\n"
