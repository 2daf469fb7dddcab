"""Mail choices in the browser: the settings screen, the unsubscribe page, no false promise."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Cast, Login, run_async, sign_in
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

    def test_sending_failed_mail_again(
        self,
        new_page: Callable[..., Page],
        cast: Cast,
        settings: Settings,
        api: Callable[[Login], httpx.Client],
    ) -> None:
        ticket = api(cast.user).post("/tickets", json=TICKET).json()
        assert settings.database_url is not None
        run_async(_refused_receipt(settings.database_url, ticket["id"], cast.user.id))
        page = new_page()
        sign_in(page, cast.admin)
        page.goto("/admin/mail")

        row = page.get_by_role("row").filter(has_text=cast.user.email)
        expect(row).to_contain_text("550 5.1.1 No such user")
        row.get_by_role("button", name=f"Send the mail to {cast.user.name} about").click()

        expect(page.get_by_text(f"The mail to {cast.user.name} is queued")).to_be_visible()
        expect(page.get_by_text("No failed mail")).to_be_visible()
        assert api(cast.admin).get("/admin/mail").json()["items"] == []


async def _refused_receipt(database_url: str, ticket_id: str, recipient_id: str) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(
            "with m as (insert into notification_mails"
            " (ticket_id, recipient_id, message_id, status, attempts, last_error, failed_at)"
            " values (%(t)s, %(r)s, '<refused@example.com>', 'failed', 1,"
            " '550 5.1.1 No such user', now()) returning id)"
            " insert into notifications (ticket_id, recipient_id, kind, mail_id)"
            " select %(t)s, %(r)s, 'ticket_created', id from m",
            {"t": ticket_id, "r": recipient_id},
        )


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
