"""axe-core over every main screen, light and dark: no serious or critical violation."""

import re
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.backlog import Backlog
from tests.e2e.conftest import Cast, Login, assert_accessible, sign_in

pytestmark = pytest.mark.browser

EXPORT = "Export to CSV times out for reports over 10k rows"
DARK = re.compile(r"\bdark\b")


def visit(page: Page, path: str, heading: str) -> None:
    """Open a screen, wait for its content (not a loading skeleton), check it in both themes."""
    page.goto(path)
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    expect(page.locator("[aria-busy=true]")).to_have_count(0)
    for scheme in ("light", "dark"):
        # The app follows the system's theme until someone picks one.
        page.emulate_media(color_scheme=scheme)
        if scheme == "dark":
            expect(page.locator("html")).to_have_class(DARK)
        else:
            expect(page.locator("html")).not_to_have_class(DARK)
        assert_accessible(page)


def test_signed_out_screens(new_page: Callable[..., Page], missing_page: str) -> None:
    """Sign-in, sign-up, a forgotten password, a broken link, an address to confirm,
    unsubscribing from mail and a missing page."""
    page = new_page()
    visit(page, "/login", "Sign in")
    visit(page, "/signup", "Create your account")
    visit(page, "/forgot-password", "Reset your password")
    visit(page, "/reset-password", "This link is incomplete")
    visit(page, f"/verify-email#token={'x' * 43}", "Confirm your e-mail address")
    # Nothing is sent until the button is pressed, so any token shows the page.
    visit(page, "/unsubscribe/a-token-from-a-mail", "Unsubscribe")
    visit(page, missing_page, "Page not found")


def test_submitter_screens(
    new_page: Callable[..., Page], cast: Cast, backlog: Backlog, missing_page: str
) -> None:
    """My tickets, a new ticket, a ticket, the profile, access tokens, mail choices and a
    missing page."""
    page = new_page()
    sign_in(page, cast.user)
    visit(page, "/tickets", "My tickets")
    visit(page, "/tickets/new", "New ticket")
    visit(page, f"/tickets/{backlog.tickets[EXPORT]['number']}", EXPORT)
    visit(page, "/profile", "Profile")
    visit(page, "/settings/tokens", "Personal access tokens")
    visit(page, "/profile/notifications", "Notifications")
    visit(page, missing_page, "Page not found")


def test_staff_screens(
    new_page: Callable[..., Page],
    cast: Cast,
    backlog: Backlog,
    api: Callable[[Login], httpx.Client],
) -> None:
    """Triage, the board, a ticket with an internal note, and administration."""
    ticket = backlog.tickets[EXPORT]
    api(cast.agent).post(
        f"/tickets/{ticket['id']}/comments",
        json={"comment": "Pairing with Margaret on the query plan.", "is_internal": True},
    ).raise_for_status()

    page = new_page()
    sign_in(page, cast.admin)
    visit(page, "/triage/open", "Triage")
    visit(page, "/board", "Board")
    visit(page, f"/tickets/{ticket['number']}", EXPORT)
    visit(page, "/admin/users", "Administration")
    visit(page, "/admin/labels", "Administration")
    visit(page, "/admin/jobs", "Administration")
    visit(page, "/admin/inbound-mail", "Administration")
    visit(page, "/admin/mail", "Administration")
    visit(page, "/admin/webhooks", "Administration")
    visit(page, "/admin/automation", "Administration")


def test_screens_on_a_phone(new_page: Callable[..., Page], cast: Cast) -> None:
    """At 390 px the header shows the logo alone: its link still says where it goes."""
    page = new_page(width=390, height=844)
    sign_in(page, cast.user)
    expect(page.get_by_role("link", name="ticketdesk", exact=True)).to_be_visible()
    visit(page, "/tickets", "My tickets")
    visit(page, "/tickets/new", "New ticket")
