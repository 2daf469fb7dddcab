"""Administration: a reply by mail that failed is shown to admins, who retry it."""

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Cast, Login, run_async, screenshot, sign_in
from tests.mailbox.mailroom import mail
from ticketdesk import db
from ticketdesk.attachments.storage import open_storage
from ticketdesk.config import Settings
from ticketdesk.mail.addresses import reply_address, thread_id
from ticketdesk.mailbox import service

pytestmark = pytest.mark.browser


def _take_in(settings: Settings, raw: bytes) -> None:
    async def take_in() -> None:
        assert settings.database_url is not None
        pool = await db.open_pool(settings.database_url, min_size=1, max_size=1)
        try:
            async with db.transaction(pool) as conn:
                await service.receive(conn, open_storage(settings), settings, raw, "pipe")
        finally:
            await pool.close()

    run_async(take_in())


def test_admin_retries_a_failed_reply(
    new_page: Callable[..., Page],
    cast: Cast,
    settings: Settings,
    api: Callable[[Login], httpx.Client],
) -> None:
    """The failure is listed with its reason; once the cause is fixed, Retry posts it."""
    ticket = (
        api(cast.user)
        .post(
            "/tickets",
            json={
                "type": "bug",
                "title": "The export button does nothing",
                "description": "Clicking Export on the reports page shows no file and no error.",
            },
        )
        .json()
    )
    # Attachment storage is broken for this ticket: its folder is a file.
    blocker = settings.data_dir / "attachments" / "tickets" / ticket["id"]
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a folder")
    values = {
        "sender": cast.user.email,
        "reply_to": reply_address(settings.mail_from, settings.secret(), ticket["number"]),
        "thread": thread_id(ticket["id"], "localhost"),
        "number": str(ticket["number"]),
    }
    _take_in(settings, mail("with-attachment.eml", **values))

    page = new_page()
    sign_in(page, cast.admin)
    page.goto("/admin/inbound-mail")
    row = page.get_by_role("row").filter(has_text=cast.user.email)
    expect(row).to_contain_text(f"Re: [#{ticket['number']}] The export button does nothing")
    expect(row).to_contain_text("Not a directory")
    screenshot(page, "admin-inbound-mail")

    blocker.unlink()
    row.get_by_role("button", name="Retry mail").click()

    expect(page.get_by_role("status").filter(has_text=": posted")).to_be_visible()
    expect(page.get_by_text("No failed mail")).to_be_visible()
    comments = api(cast.user).get(f"/tickets/{ticket['id']}/comments").json()
    assert [c["body"] for c in comments] == ["The log of the failed export is attached."]
