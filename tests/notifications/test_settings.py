"""Mail switched off, and the ``notifications.new_tickets`` choices."""

from typing import Any

import pytest
from httpx import AsyncClient

from tests.factories import Accounts
from tests.mailservers import SmtpServer
from tests.notifications.conftest import mail_settings
from tests.notifications.support import assign, comment, mail_to, open_ticket, settled
from ticketdesk.config import ConfigError, load_settings
from ticketdesk.db import Connection


class TestWithoutSmtp:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {}

    async def test_nothing_is_queued_or_promised(
        self, accounts: Accounts, anon: AsyncClient, conn: Connection
    ) -> None:
        ticket = await open_ticket(accounts.alice)
        await comment(accounts.agent, ticket, "A reply nobody is mailed about.")
        await assign(accounts.admin, ticket, accounts.agent)
        config = await anon.get("/api/v1/config")
        choices = await accounts.alice.client.get("/api/v1/me/notifications")

        cur = await conn.execute(
            "select (select count(*) from procrastinate_jobs) as jobs,"
            " (select count(*) from notifications) as notifications"
        )
        assert await cur.fetchone() == {"jobs": 0, "notifications": 0}
        assert config.json()["mail_enabled"] is False
        assert choices.json()["mail_enabled"] is False


class TestWithSmtp:
    @pytest.fixture
    def settings_overrides(self, smtp_server: SmtpServer) -> dict[str, Any]:
        return mail_settings(smtp_server)

    async def test_the_config_says_so(self, anon: AsyncClient) -> None:
        config = await anon.get("/api/v1/config")
        assert config.json()["mail_enabled"] is True


@pytest.mark.usefixtures("worker")
class TestNewTicketsNone:
    @pytest.fixture
    def settings_overrides(self, smtp_server: SmtpServer) -> dict[str, Any]:
        return mail_settings(smtp_server, new_tickets="none")

    async def test_staff_are_not_told(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        await open_ticket(accounts.alice)
        await settled(conn)

        assert len(mail_to(smtp_server, accounts.alice)) == 1
        assert mail_to(smtp_server, accounts.agent) == []
        assert mail_to(smtp_server, accounts.admin) == []


@pytest.mark.usefixtures("worker")
class TestNewTicketsUnassigned:
    @pytest.fixture
    def settings_overrides(self, smtp_server: SmtpServer) -> dict[str, Any]:
        return mail_settings(smtp_server, new_tickets="unassigned", burst_seconds=3.0)

    async def test_a_ticket_taken_within_the_burst_is_news_to_no_one(
        self, accounts: Accounts, conn: Connection, smtp_server: SmtpServer
    ) -> None:
        taken = await open_ticket(accounts.alice, title="Taken at once by an agent")
        await assign(accounts.agent, taken, accounts.agent)
        left = await open_ticket(accounts.bob, title="Left for anyone to pick up")
        await settled(conn)

        to_admin = [m["Subject"] for m in mail_to(smtp_server, accounts.admin)]
        to_agent = [m["Subject"] for m in mail_to(smtp_server, accounts.agent)]
        assert to_admin == [f"[#{left['number']}] Left for anyone to pick up"]
        assert to_agent == [f"[#{left['number']}] Left for anyone to pick up"]


def test_new_tickets_setting_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKETDESK_NOTIFY_NEW_TICKETS", "unassigned")
    assert load_settings().notifications.new_tickets == "unassigned"
    monkeypatch.setenv("TICKETDESK_NOTIFY_NEW_TICKETS", "some")
    with pytest.raises(ConfigError, match=r"notifications.new_tickets \(TICKETDESK_NOTIFY_NEW"):
        load_settings()
