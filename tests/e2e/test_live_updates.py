"""Pages that update themselves: what others do reaches an open page without a reload, and
staff see who else is on a ticket."""

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Cast, Login, sign_in

pytestmark = pytest.mark.browser

TICKET = {
    "type": "support",
    "title": "Invoices page shows last month twice",
    "description": "Since Monday the invoices page lists October twice and November not at all.",
}
NOTE = "Internal: finance reran the invoice job at 02:00, check its log first."
REPLY = "Thanks for the report: we found the duplicate and are fixing it now."


def _open_ticket(api: Callable[[Login], httpx.Client], cast: Cast) -> dict[str, object]:
    response = api(cast.user).post("/tickets", json=TICKET)
    response.raise_for_status()
    ticket: dict[str, object] = response.json()
    return ticket


def test_a_reply_reaches_the_open_page_and_a_note_does_not(
    new_page: Callable[..., Page], cast: Cast, api: Callable[[Login], httpx.Client]
) -> None:
    ticket = _open_ticket(api, cast)
    submitter = new_page()
    sign_in(submitter, cast.user)
    submitter.goto(f"/tickets/{ticket['number']}")
    expect(submitter.get_by_role("heading", name=TICKET["title"])).to_be_visible()
    submitter.evaluate("window.__notReloaded = true")

    agent = api(cast.agent)
    agent.post(
        f"/tickets/{ticket['id']}/comments", json={"comment": NOTE, "is_internal": True}
    ).raise_for_status()
    agent.post(f"/tickets/{ticket['id']}/comments", json={"comment": REPLY}).raise_for_status()

    expect(submitter.get_by_role("article", name="Comment by Grace Hopper")).to_contain_text(REPLY)
    expect(submitter.locator("body")).not_to_contain_text(NOTE)
    assert submitter.evaluate("window.__notReloaded") is True


def test_staff_see_who_else_is_viewing_and_replying(
    new_page: Callable[..., Page], cast: Cast, api: Callable[[Login], httpx.Client]
) -> None:
    ticket = _open_ticket(api, cast)
    grace = new_page()
    sign_in(grace, cast.agent)
    grace.goto(f"/tickets/{ticket['number']}")
    expect(grace.get_by_role("heading", name=TICKET["title"])).to_be_visible()

    ada = new_page()
    sign_in(ada, cast.admin)
    ada.goto(f"/tickets/{ticket['number']}")
    expect(ada.get_by_text("Grace Hopper is viewing")).to_be_visible()
    expect(grace.get_by_text("Ada Lovelace is viewing")).to_be_visible()

    ada.get_by_role("textbox", name="Message").fill("Looking into the invoice job now.")
    expect(grace.get_by_text("Ada Lovelace is replying")).to_be_visible()

    ada.goto("/triage/open")
    expect(grace.get_by_text("Ada Lovelace is")).to_have_count(0, timeout=10_000)


def test_triage_shows_a_new_ticket_without_a_reload(
    new_page: Callable[..., Page], cast: Cast, api: Callable[[Login], httpx.Client]
) -> None:
    page = new_page()
    sign_in(page, cast.agent)
    page.goto("/triage/open")
    expect(page.get_by_role("region", name="All open tickets")).to_contain_text("Nothing here")
    page.evaluate("window.__notReloaded = true")

    _open_ticket(api, cast)

    expect(page.get_by_role("row").filter(has_text=TICKET["title"])).to_be_visible()
    assert page.evaluate("window.__notReloaded") is True
