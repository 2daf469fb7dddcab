"""Inviting a colleague: the admin sends an invitation, the colleague follows the mailed link,
chooses a password and is signed in. Mail goes to a real SMTP server, sent by a job."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Cast, sign_in
from tests.mailservers import SmtpServer

pytestmark = pytest.mark.browser

LINK = re.compile(r"(http://\S+#token=[A-Za-z0-9_-]+)")


@pytest.fixture
def settings_overrides(smtp_server: SmtpServer, live_port: int) -> dict[str, Any]:
    """Mail on, and links in mails that lead to the live server."""
    return {"smtp_url": smtp_server.url, "base_url": f"http://127.0.0.1:{live_port}"}


@pytest.fixture
def serve_jobs() -> bool:
    """The invitation is mailed by a job."""
    return True


def test_an_invited_colleague_chooses_a_password(
    new_page: Callable[..., Page], cast: Cast, smtp_server: SmtpServer
) -> None:
    admin = new_page()
    sign_in(admin, cast.admin)
    admin.goto("/admin/users")
    admin.get_by_role("button", name="Invite user").click()
    dialog = admin.get_by_role("dialog")
    expect(dialog.get_by_label("Initial password")).to_have_count(0)
    dialog.get_by_label("Name").fill("Katherine Johnson")
    dialog.get_by_label("Email").fill("katherine@example.com")
    dialog.get_by_label("Role").select_option("agent")
    dialog.get_by_role("button", name="Send invitation").click()
    expect(admin.get_by_text("Invitation sent to katherine@example.com")).to_be_visible()
    row = admin.get_by_role("row", name=re.compile("Katherine Johnson"))
    expect(row).to_contain_text("Invited")

    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "Katherine Johnson <katherine@example.com>"
    text = mail.get_body(preferencelist=("plain",))
    assert text is not None
    match = LINK.search(text.get_content())  # type: ignore[attr-defined]
    assert match is not None

    colleague = new_page()
    colleague.goto(match[1])
    expect(colleague.get_by_role("heading", name="Welcome to ticketdesk")).to_be_visible()
    colleague.get_by_label("New password").fill("katherine's own passphrase")
    colleague.get_by_role("button", name="Set password and sign in").click()
    expect(colleague).to_have_url(re.compile("/triage/unassigned$"))
    colleague.get_by_role("button", name=re.compile("account menu")).click()
    expect(colleague.get_by_role("menu")).to_contain_text("katherine@example.com")

    admin.reload()
    row = admin.get_by_role("row", name=re.compile("Katherine Johnson"))
    expect(row).not_to_contain_text("Invited")
