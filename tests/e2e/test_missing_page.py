"""A page that does not exist offers the way back: home when signed in, sign-in otherwise."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Cast, sign_in

pytestmark = pytest.mark.browser


def test_signed_out(new_page: Callable[..., Page], missing_page: str) -> None:
    """Someone signed out is offered the sign-in page."""
    page = new_page()
    page.goto(missing_page)
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    page.get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_signed_in(new_page: Callable[..., Page], cast: Cast, missing_page: str) -> None:
    """A submitter goes back to their tickets, an agent to triage."""
    for login, link, home in (
        (cast.user, "Back to my tickets", "/tickets"),
        (cast.agent, "Back to triage", "/triage/unassigned"),
    ):
        page = new_page()
        sign_in(page, login)
        page.goto(missing_page)
        expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
        page.get_by_role("link", name=link).click()
        expect(page).to_have_url(re.compile(f"{re.escape(home)}$"))
