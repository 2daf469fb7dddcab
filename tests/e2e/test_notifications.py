"""Mail choices in the browser: the settings screen, the unsubscribe page, no false promise."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Cast, Login, sign_in
from tests.mailservers import SmtpServer
from ticketdesk.config import Settings
from ticketdesk.notifications.service import unsubscribe_token

pytestmark = pytest.mark.browser

TICKET = {
    "type": "support",
    "title": "Where do I download my invoices?",
    "description": "I cannot find the invoices for last year anywhere in my account.",
}


class TestMailOn:
    @pytest.fixture
    def settings_overrides(self, smtp_server: SmtpServer) -> dict[str, Any]:
        return {"smtp_url": smtp_server.url}

    def test_choosing_which_mail_to_get(
        self,
        new_page: Callable[..., Page],
        cast: Cast,
        api: Callable[[Login], httpx.Client],
    ) -> None:
        page = new_page()
        sign_in(page, cast.user)
        page.get_by_role("button", name="account menu").click()
        page.get_by_role("menuitem", name="Notifications").click()

        expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
        expect(page.get_by_text("does not send mail")).to_have_count(0)
        reply = page.get_by_label("A public reply on my ticket")
        expect(reply).to_be_checked()
        expect(page.get_by_label("A new ticket was opened")).to_have_count(0)
        reply.uncheck()
        expect(page.get_by_role("status").filter(has_text="Mail off")).to_be_visible()
        page.reload()
        expect(page.get_by_label("A public reply on my ticket")).not_to_be_checked()
        kinds = api(cast.user).get("/me/notifications").json()["kinds"]
        assert {k["kind"]: k["enabled"] for k in kinds}["reply"] is False

    def test_one_click_unsubscribe_page(
        self,
        new_page: Callable[..., Page],
        cast: Cast,
        settings: Settings,
        api: Callable[[Login], httpx.Client],
    ) -> None:
        token = unsubscribe_token(settings.secret(), UUID(cast.user.id), ["closed", "resolved"])
        page = new_page()
        page.goto(f"/unsubscribe/{token}")
        # Opening the page alone changes nothing.
        kinds = api(cast.user).get("/me/notifications").json()["kinds"]
        assert all(k["enabled"] for k in kinds)

        page.get_by_role("button", name="Unsubscribe").click()

        expect(page.get_by_text("You will no longer get mail for:")).to_be_visible()
        expect(
            page.get_by_role("listitem").filter(has_text="My ticket was resolved")
        ).to_be_visible()
        kinds = api(cast.user).get("/me/notifications").json()["kinds"]
        off = {k["kind"] for k in kinds if not k["enabled"]}
        assert off == {"closed", "resolved"}

    def test_the_ticket_page_promises_mail(
        self,
        new_page: Callable[..., Page],
        cast: Cast,
        api: Callable[[Login], httpx.Client],
    ) -> None:
        ticket = api(cast.user).post("/tickets", json=TICKET).json()
        page = new_page()
        sign_in(page, cast.user)
        page.goto(f"/tickets/{ticket['number']}")
        expect(page.get_by_text("you'll also get an email")).to_be_visible()


class TestMailOff:
    def test_nothing_promises_mail(
        self,
        new_page: Callable[..., Page],
        cast: Cast,
        api: Callable[[Login], httpx.Client],
    ) -> None:
        ticket = api(cast.user).post("/tickets", json=TICKET).json()
        page = new_page()
        sign_in(page, cast.user)
        page.goto(f"/tickets/{ticket['number']}")
        expect(page.get_by_text("No replies yet. We'll answer here.")).to_be_visible()
        expect(page.get_by_text("email")).to_have_count(0)

        page.goto("/profile/notifications")
        expect(page.get_by_text("This server does not send mail at the moment.")).to_be_visible()

    def test_admins_see_refused_mail(self, new_page: Callable[..., Page], cast: Cast) -> None:
        page = new_page()
        sign_in(page, cast.admin)
        page.goto("/admin/jobs")
        page.get_by_role("navigation", name="Administration").get_by_role(
            "link", name="Failed mail"
        ).click()
        expect(page.get_by_text("No failed mail")).to_be_visible()
