"""``tickets.enabled: false``: the web app says tickets are off instead of showing them."""

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Cast, assert_accessible, sign_in

pytestmark = pytest.mark.browser

OFF = "Tickets are switched off on this server"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Tickets switched off, as with ``TICKETS_ENABLED=false``."""
    return {"tickets": {"enabled": False}}


def test_submitter_sees_that_tickets_are_off(new_page: Callable[..., Page], cast: Cast) -> None:
    """Signing in lands on the notice; no link or button leads to a ticket screen."""
    page = new_page()
    sign_in(page, cast.user)
    expect(page.get_by_role("heading", name=OFF)).to_be_visible()
    expect(page.get_by_text("Ask your administrator")).to_be_visible()
    main_nav = page.get_by_role("navigation", name="Main")
    expect(main_nav.get_by_role("link")).to_have_count(0)
    expect(page.get_by_role("link", name="New ticket")).to_have_count(0)
    assert_accessible(page)

    for path in ("/tickets/new", "/tickets/1"):
        page.goto(path)
        expect(page.get_by_role("heading", name=OFF)).to_be_visible()

    page.goto("/settings/tokens")
    expect(page.get_by_role("heading", name="Personal access tokens")).to_be_visible()


def test_admin_is_told_how_to_switch_them_on(new_page: Callable[..., Page], cast: Cast) -> None:
    """Triage and the board give way to the notice; administration still works."""
    page = new_page(dark=True)
    sign_in(page, cast.admin)
    expect(page.get_by_role("heading", name=OFF)).to_be_visible()
    expect(page.locator("main")).to_contain_text("TICKETS_ENABLED")
    page.goto("/board")
    expect(page.get_by_role("heading", name=OFF)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Go to administration").click()
    expect(page.get_by_role("table")).to_contain_text(cast.agent.name)
    main_nav = page.get_by_role("navigation", name="Main")
    expect(main_nav.get_by_role("link")).to_have_text(["Admin"])
