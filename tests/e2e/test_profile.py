"""The profile: a new name shows in the account menu; a new password needs the current one."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PASSWORD, Cast, refused, sign_in

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a fresher e2e passphrase"


def test_changing_name_and_password(
    new_page: Callable[..., Page], cast: Cast, expected_console_errors: list[re.Pattern[str]]
) -> None:
    expected_console_errors.append(refused(403, "/me/password"))
    page = new_page()
    sign_in(page, cast.user)
    page.get_by_role("button", name=re.compile("account menu")).click()
    page.get_by_role("menuitem", name="Profile").click()
    expect(page.get_by_role("heading", name="Profile", level=1)).to_be_visible()
    # Without mail there are no notification mails to choose.
    expect(page.get_by_role("link", name=re.compile("Notifications"))).to_have_count(0)

    page.get_by_label("Name").fill("Alan M. Turing")
    page.get_by_role("button", name="Save name").click()
    expect(page.get_by_text("Name saved")).to_be_visible()
    page.get_by_role("button", name=re.compile("account menu")).click()
    expect(page.get_by_role("menu")).to_contain_text("Alan M. Turing")
    page.keyboard.press("Escape")

    current = page.get_by_label("Current password")
    current.fill("not my password")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(current).to_have_accessible_description("The current password is wrong.")

    current.fill(PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(
        page.get_by_text("Your other sessions were signed out and your access tokens revoked.")
    ).to_be_visible()
    expect(current).to_have_value("")

    page.get_by_role("button", name=re.compile("account menu")).click()
    page.get_by_role("menuitem", name="Sign out").click()
    page.get_by_label("Email").fill(cast.user.email)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
