"""``GET /api/v1/config``: the limits and switches the web app adapts to."""

from importlib.metadata import version
from typing import Any

import pytest
from httpx import AsyncClient

from tests.factories import Accounts


class TestDefaults:
    async def test_anonymous_callers_read_them(self, anon: AsyncClient) -> None:
        response = await anon.get("/api/v1/config")

        assert response.status_code == 200
        assert response.json() == {
            "version": version("ticketdesk"),
            "tickets_enabled": True,
            "signup_enabled": True,
            "allow_attachments": True,
            "max_attachment_size_mb": 10,
            "max_files_per_upload": 5,
            "allowed_media_types": [
                "image/png",
                "image/jpeg",
                "image/gif",
                "image/webp",
                "application/pdf",
                "application/zip",
                "application/json",
                "text/plain",
            ],
            "github_enabled": False,
            "mail_enabled": False,
            "verify_email": False,
        }


class TestConfigured:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        """Everything switched the other way."""
        return {
            "signup_enabled": False,
            "tickets": {
                "enabled": False,
                "allow_attachments": False,
                "max_attachment_size_mb": 3,
                "allowed_attachment_types": ["image/png", "text/plain"],
                "github": {"enabled": True, "repo": "acme/widgets", "token": "ghp_x"},
            },
            "smtp_url": "smtp://127.0.0.1:2525",
            "accounts": {"verify_email": True},
        }

    async def test_the_switches_are_reported(self, anon: AsyncClient) -> None:
        config = (await anon.get("/api/v1/config")).json()

        assert config["tickets_enabled"] is False
        assert config["signup_enabled"] is False
        assert config["allow_attachments"] is False
        assert config["max_attachment_size_mb"] == 3
        assert config["allowed_media_types"] == ["image/png", "text/plain"]
        assert config["github_enabled"] is True
        assert config["mail_enabled"] is True
        assert config["verify_email"] is True


class TestAutomation:
    async def test_admins_read_the_timed_rules_and_no_one_else(
        self, accounts: Accounts, anon: AsyncClient
    ) -> None:
        as_admin = await accounts.admin.client.get("/api/v1/admin/automation")
        as_agent = await accounts.agent.client.get("/api/v1/admin/automation")
        as_nobody = await anon.get("/api/v1/admin/automation")

        assert as_admin.status_code == 200
        assert as_admin.json() == {
            "escalation_priority": "critical",
            "escalation_after_hours": 4,
            "auto_close_days": 7,
            "reply_moves_to_waiting": False,
        }
        assert as_agent.status_code == 403
        assert as_nobody.status_code == 401

    @pytest.mark.parametrize(
        "settings_overrides",
        [
            {
                "escalation": {"priority": "high", "after_hours": 2},
                "tickets": {"auto_close_days": 0, "reply_moves_to_waiting": True},
            }
        ],
    )
    async def test_they_show_the_settings(self, accounts: Accounts) -> None:
        response = await accounts.admin.client.get("/api/v1/admin/automation")

        assert response.json() == {
            "escalation_priority": "high",
            "escalation_after_hours": 2,
            "auto_close_days": 0,
            "reply_moves_to_waiting": True,
        }
