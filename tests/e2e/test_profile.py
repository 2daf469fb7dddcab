"""The profile: a new name shows in the account menu; a new password needs the current one;
signing out everywhere ends the sessions on other devices. Tokens with a scope and an end."""

import re
from collections.abc import Callable

import httpx
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


def test_tokens_with_scope_and_expiry_then_signing_out_everywhere(
    new_page: Callable[..., Page],
    cast: Cast,
    live_server: str,
    expected_console_errors: list[re.Pattern[str]],
) -> None:
    # The other device's page asks who is signed in once its session has ended.
    expected_console_errors.append(refused(401, "/me"))
    laptop = new_page()
    phone = new_page()
    sign_in(laptop, cast.user)
    sign_in(phone, cast.user)

    laptop.goto("/settings/tokens")
    laptop.get_by_label("Token name").fill("Nightly report")
    laptop.get_by_label("Access").select_option("read")
    laptop.get_by_label("Expiration", exact=True).select_option("7")
    laptop.get_by_role("button", name="Create token").click()
    secret = laptop.get_by_label("New token value").input_value()
    row = laptop.get_by_role("listitem").filter(has_text="Nightly report")
    expect(row).to_contain_text("Read only")
    expect(row).to_contain_text("expires in 7 days")
    bearer = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=f"{live_server}/api/v1", headers=bearer) as script:
        assert script.get("/tickets").status_code == 200
        assert script.patch("/me", json={"name": "X"}).json()["code"] == "read_only_token"

    laptop.goto("/profile")
    laptop.get_by_role("button", name="Sign out everywhere").click()
    laptop.get_by_role("dialog").get_by_role("button", name="Sign out everywhere").click()
    laptop.wait_for_url(re.compile(r"/login"))
    expect(laptop.get_by_text("2 sessions ended.")).to_be_visible()

    phone.goto("/tickets")
    phone.wait_for_url(re.compile(r"/login"))
    # Tokens were not ticked off: scripts keep working.
    with httpx.Client(base_url=f"{live_server}/api/v1", headers=bearer) as script:
        assert script.get("/me").status_code == 200
