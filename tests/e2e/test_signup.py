"""Signing up: one clear message per field, in the server's words where the server decides."""

import re
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import refused

pytestmark = pytest.mark.browser

NAME = "Nina Simone"
PASSWORD = "a long enough password"


def test_a_short_password_is_explained_once(new_page: Callable[..., Page]) -> None:
    """Before: a hint. After a try with too few characters: the error in its place."""
    page = new_page()
    page.goto("/signup")
    password = page.get_by_label("Password")
    expect(password).to_have_accessible_description(
        "At least 10 characters, and not a common password."
    )

    page.get_by_label("Name").fill(NAME)
    page.get_by_label("Email").fill("nina@example.com")
    password.fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(password).to_have_accessible_description("Use at least 10 characters (5 so far).")
    expect(page.get_by_text(re.compile("10 characters"))).to_have_count(1)
    expect(page).to_have_url(re.compile("/signup$"))


def test_an_address_the_server_refuses_shows_its_message(
    new_page: Callable[..., Page],
    live_server: str,
    expected_console_errors: list[re.Pattern[str]],
) -> None:
    """Whatever the server says of the address is what the field says; no library jargon."""
    expected_console_errors.append(refused(422, "/auth/signup"))
    answer = httpx.post(
        f"{live_server}/api/v1/auth/signup",
        json={"name": NAME, "email": "it@corp.local", "password": PASSWORD},
    )
    assert answer.status_code == 422
    message = next(e["message"] for e in answer.json()["errors"] if e["field"] == "email")

    page = new_page()
    page.goto("/signup")
    page.get_by_label("Name").fill(NAME)
    page.get_by_label("Email").fill("it@corp.local")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    email = page.get_by_label("Email")
    expect(email).to_have_accessible_description(message)
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.locator("main")).not_to_contain_text("special-use")
    expect(page).to_have_url(re.compile("/signup$"))


def test_a_common_password_shows_the_servers_message(
    new_page: Callable[..., Page],
    live_server: str,
    expected_console_errors: list[re.Pattern[str]],
) -> None:
    """Long enough, but one guessers try first: the server says so on the password field."""
    expected_console_errors.append(refused(422, "/auth/signup"))
    answer = httpx.post(
        f"{live_server}/api/v1/auth/signup",
        json={"name": NAME, "email": "nina@example.com", "password": "password12"},
    )
    assert (answer.status_code, answer.json()["field"]) == (422, "password")

    page = new_page()
    page.goto("/signup")
    page.get_by_label("Name").fill(NAME)
    page.get_by_label("Email").fill("nina@example.com")
    page.get_by_label("Password").fill("password12")
    page.get_by_role("button", name="Create account").click()
    password = page.get_by_label("Password")
    expect(password).to_have_accessible_description(answer.json()["detail"])
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(page).to_have_url(re.compile("/signup$"))
