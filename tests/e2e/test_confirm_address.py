"""Signing up where addresses are confirmed first: no session until the mailed link is
confirmed and the password given; signing in before that offers the link again."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import refused
from tests.mailservers import SmtpServer

pytestmark = pytest.mark.browser

EMAIL = "nina@example.com"
PASSWORD = "nina's long passphrase"
LINK = re.compile(r"(http://\S+#token=[A-Za-z0-9_-]+)")


@pytest.fixture
def settings_overrides(smtp_server: SmtpServer, live_port: int) -> dict[str, Any]:
    """Mail on, addresses confirmed, links that lead to the live server."""
    return {
        "smtp_url": smtp_server.url,
        "base_url": f"http://127.0.0.1:{live_port}",
        "accounts": {"verify_email": True},
    }


@pytest.fixture
def serve_jobs() -> bool:
    """The links are mailed by jobs."""
    return True


def link_in(smtp_server: SmtpServer, count: int) -> str:
    """The link in the ``count``-th mail, waiting for it."""
    mail = smtp_server.wait_for(count)[count - 1]
    text = mail.get_body(preferencelist=("plain",))
    assert text is not None
    match = LINK.search(text.get_content())  # type: ignore[attr-defined]
    assert match is not None
    return match[1]


def test_a_new_account_confirms_its_address(
    new_page: Callable[..., Page],
    smtp_server: SmtpServer,
    expected_console_errors: list[re.Pattern[str]],
) -> None:
    expected_console_errors.append(refused(401, "/auth/login"))
    page = new_page()
    page.goto("/signup")
    page.get_by_label("Name").fill("Nina Simone")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()
    link_in(smtp_server, 1)

    page.goto("/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Refused as a wrong password is, with a word for whoever just signed up.
    expect(page.get_by_role("alert")).to_contain_text(
        "Wrong e-mail address or password — or, if you just signed up, confirm your address"
    )
    page.get_by_role("button", name="Send the link again").click()
    expect(page.get_by_role("status").first).to_contain_text("a new link is on its way")

    link = link_in(smtp_server, 2)
    page.goto(link)
    # Opening the link confirms nothing (a mail scanner opens links too): the button does.
    expect(page.get_by_role("heading", name="Confirm your e-mail address")).to_be_visible()
    page.get_by_role("button", name="Confirm my address").click()
    expect(page).to_have_url(re.compile("/login[?]confirmed=done$"))
    expect(page.get_by_role("status")).to_contain_text("Your address is confirmed")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile("/tickets$"))
    page.get_by_role("button", name=re.compile("account menu")).click()
    expect(page.get_by_role("menu")).to_contain_text(EMAIL)

    # The link works once; opened again, it says so, and does not claim the address is
    # still unconfirmed.
    expected_console_errors.append(refused(409, "/auth/verify-email/confirm"))
    page.goto(link)
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()
    expect(page.get_by_text("not confirmed")).to_have_count(0)
