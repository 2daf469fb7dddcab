"""Finding tickets: the triage search box looks through every status and shows where it
matched; the new-ticket form suggests likely duplicates as the title is typed."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.backlog import Backlog
from tests.e2e.conftest import Cast, sign_in

pytestmark = pytest.mark.browser

SAFARI = "Two-factor login loops back to the sign-in page on Safari"


def test_triage_search_finds_a_resolved_ticket_from_unassigned(
    new_page: Callable[..., Page], cast: Cast, backlog: Backlog
) -> None:
    """The ticket is resolved and assigned, yet searching on Unassigned finds it, with the
    words that matched in its reply marked."""
    page = new_page()
    sign_in(page, cast.agent)
    page.goto("/triage/unassigned")
    expect(page.get_by_role("link", name=re.compile(re.escape(SAFARI)))).to_be_hidden()

    page.get_by_role("searchbox", name="Search tickets").fill("session cookie")

    row = page.get_by_role("row").filter(
        has=page.get_by_role("link", name=re.compile(re.escape(SAFARI)))
    )
    expect(row).to_be_visible()
    expect(row.get_by_text("Resolved", exact=True)).to_be_visible()
    expect(row.locator("mark")).to_have_text(["session", "cookie"])
    expect(page.get_by_text("Searching every ticket, in every status")).to_be_visible()
    sort = page.get_by_label("Sort")
    expect(sort.locator("option").first).to_have_text("Relevance")
    sort.select_option("relevance")
    expect(page).to_have_url(re.compile(r"sort=relevance"))
    expect(row).to_be_visible()


def test_new_ticket_form_suggests_a_similar_ticket(
    new_page: Callable[..., Page], cast: Cast, backlog: Backlog
) -> None:
    """A misspelt title that the full-text search alone would not match."""
    page = new_page()
    sign_in(page, cast.user)
    page.get_by_role("link", name="New ticket").click()

    page.get_by_label("Title", exact=True).fill("Two factor login loops on Safary")

    similar = page.get_by_role("region", name="Similar tickets")
    number = backlog.tickets[SAFARI]["number"]
    expect(similar.get_by_role("link", name=f"#{number} {SAFARI}")).to_be_visible()
