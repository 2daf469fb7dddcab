"""Forgetting a password: asking on the sign-in page, following the mailed link, signing in
with the new password. Mail goes to a real SMTP server, sent by the server's own worker."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PASSWORD, Cast, refused
from tests.mailservers import SmtpServer

pytestmark = pytest.mark.browser

NEW_PASSWORD = "my new e2e passphrase"
LINK = re.compile(r"(http://\S+#token=[A-Za-z0-9_-]+)")


@pytest.fixture
def settings_overrides(smtp_server: SmtpServer, live_port: int) -> dict[str, Any]:
    """Mail on, and links in mails that lead to the live server."""
    return {"smtp_url": smtp_server.url, "base_url": f"http://127.0.0.1:{live_port}"}


@pytest.fixture
def serve_jobs() -> bool:
    """The reset mail is sent by a job."""
    return True


def test_a_forgotten_password_is_reset_through_the_mailed_link(
    new_page: Callable[..., Page],
    cast: Cast,
    smtp_server: SmtpServer,
    expected_console_errors: list[re.Pattern[str]],
) -> None:
    expected_console_errors += [
        refused(401, "/auth/login"),
        refused(409, "/auth/password-reset/confirm"),
    ]
    page = new_page()
    page.goto("/login")
    page.get_by_role("link", name="Forgot password?").click()
    expect(page).to_have_url(re.compile("/forgot-password$"))
    page.get_by_label("Email").fill(cast.user.email)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("status")).to_contain_text("a link to set a new password is on its way")

    [mail] = smtp_server.wait_for(1)
    assert cast.user.email in mail["To"]
    text = mail.get_body(preferencelist=("plain",))
    assert text is not None
    match = LINK.search(text.get_content())  # type: ignore[attr-defined]
    assert match is not None
    link = match[1]

    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    expect(page).to_have_url(re.compile("/reset-password$"))  # the secret left the address bar
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    expect(page).to_have_url(re.compile(r"/login\?reset=done$"))
    expect(page.get_by_text("Your new password is set. Sign in with it.")).to_be_visible()

    page.get_by_label("Email").fill(cast.user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong e-mail address or password")
    # Addresses are not confirmed here: no confirmation link is offered.
    expect(page.get_by_role("button", name="Send the link again")).to_have_count(0)
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    expect(page.get_by_role("button", name=re.compile("account menu"))).to_be_visible()

    # The link worked once.
    again = new_page()
    again.goto(link)
    again.get_by_label("New password").fill("yet another passphrase")
    again.get_by_role("button", name="Set new password").click()
    expect(again.get_by_role("alert")).to_contain_text("has expired or has been used")


class TestWithoutMail:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {}

    def test_the_sign_in_page_promises_no_mail(
        self, new_page: Callable[..., Page], live_server: str
    ) -> None:
        page = new_page()
        page.goto("/login")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()

        expect(page.get_by_role("link", name="Forgot password?")).to_have_count(0)
