"""Two people change one ticket: the second write is refused, reloaded and explained.

Each page here has not yet heard of the other person's change: its live-update stream is
held unanswered, so the change it would have brought cannot land between the other write
and the click (a race the test would otherwise lose now and then on a busy machine).
"""

import re
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.backlog import Backlog
from tests.e2e.conftest import Cast, Login, refused, sign_in
from tests.e2e.test_ticket_story import ticket_header

pytestmark = pytest.mark.browser

EXPORT = "Export to CSV times out for reports over 10k rows"
TWO_FACTOR = "Two-factor login loops back to the sign-in page on Safari"
DARK_MODE = "Dark mode for the customer dashboard"
STALE = "Someone else changed this ticket"


def not_hearing_changes(page: Page) -> None:
    """Hold the page's live-update stream unanswered, as a connection still being made."""
    page.route("**/api/v1/events/stream*", lambda route: None)


def test_agent_changes_a_ticket_someone_else_just_changed(
    new_page: Callable[..., Page],
    cast: Cast,
    backlog: Backlog,
    api: Callable[[Login], httpx.Client],
    expected_console_errors: list[re.Pattern[str]],
) -> None:
    """The agent's priority change meets a newer version: nothing is lost, the page says why."""
    ticket = backlog.tickets[EXPORT]
    expected_console_errors.append(refused(412, f"/tickets/{ticket['id']}"))
    page = new_page()
    not_hearing_changes(page)
    sign_in(page, cast.agent)
    page.goto(f"/tickets/{ticket['number']}")
    expect(ticket_header(page)).to_contain_text("In progress")
    priority = page.get_by_label("Priority", exact=True)
    expect(priority).to_have_value("high")

    admin = api(cast.admin)
    admin.put(f"/tickets/{ticket['id']}", json={"status": "waiting"}).raise_for_status()
    admin.put(
        f"/tickets/{ticket['id']}/assign", json={"assignee_id": cast.admin.id}
    ).raise_for_status()

    priority.select_option("low")
    toast = page.get_by_role("alert").filter(has_text=STALE)
    expect(toast).to_contain_text(
        "Meanwhile the status became Waiting and it was assigned to Ada Lovelace, "
        "so we did not change the priority."
    )
    expect(ticket_header(page)).to_contain_text("Waiting")
    expect(page.get_by_label("Status", exact=True)).to_have_value("waiting")
    expect(page.get_by_label("Assignee")).to_have_value(cast.admin.id)
    expect(priority).to_have_value("high")
    assert admin.get(f"/tickets/{ticket['id']}").json()["priority"] == "high"

    priority.select_option("low")
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    saved = admin.get(f"/tickets/{ticket['id']}").json()
    assert (saved["priority"], saved["status"]) == ("low", "waiting")


def test_submitter_accepts_a_resolution_that_was_withdrawn(
    new_page: Callable[..., Page],
    cast: Cast,
    backlog: Backlog,
    api: Callable[[Login], httpx.Client],
    expected_console_errors: list[re.Pattern[str]],
) -> None:
    """Accepting a resolution the agent has just reopened closes nothing and says so."""
    ticket = backlog.tickets[TWO_FACTOR]
    expected_console_errors.append(refused(412, f"/tickets/{ticket['id']}/close"))
    page = new_page()
    not_hearing_changes(page)
    sign_in(page, cast.user)
    page.goto(f"/tickets/{ticket['number']}")
    accept = page.get_by_role("button", name="Accept resolution")
    expect(accept).to_be_visible()

    agent = api(cast.agent)
    agent.put(f"/tickets/{ticket['id']}", json={"status": "open"}).raise_for_status()

    accept.click()
    expect(page.get_by_role("alert").filter(has_text=STALE)).to_contain_text(
        "Meanwhile the status became Open, so we did not close the ticket."
    )
    expect(ticket_header(page)).to_contain_text("Open")
    expect(accept).to_be_hidden()
    assert agent.get(f"/tickets/{ticket['id']}").json()["status"] == "open"


def test_agent_moves_a_card_someone_else_just_moved(
    new_page: Callable[..., Page],
    cast: Cast,
    backlog: Backlog,
    api: Callable[[Login], httpx.Client],
    expected_console_errors: list[re.Pattern[str]],
) -> None:
    """A move from a stale board is refused; the board shows where the ticket is now, and why."""
    ticket = backlog.tickets[DARK_MODE]
    expected_console_errors.append(refused(412, f"/tickets/{ticket['id']}"))
    page = new_page()
    not_hearing_changes(page)
    sign_in(page, cast.agent)
    page.goto("/board")

    def card(status: str) -> Locator:
        column = page.get_by_role("region", name=status, exact=True)
        return column.get_by_role("article", name=f"#{ticket['number']} {DARK_MODE}")

    expect(card("Open")).to_be_visible()
    admin = api(cast.admin)
    admin.put(f"/tickets/{ticket['id']}", json={"status": "in_progress"}).raise_for_status()

    card("Open").drag_to(page.get_by_role("region", name="Closed"))
    expect(
        page.get_by_role("alert").filter(has_text=f"Someone else changed #{ticket['number']}")
    ).to_contain_text("It was not moved. The board shows the latest version")
    expect(card("In progress")).to_be_visible()
    # What a screen reader hears matches where the card is shown.
    expect(page.locator("main [aria-live=assertive]")).to_have_text(
        f"Someone else changed #{ticket['number']}; it was not moved."
    )
    expect(card("Closed")).to_have_count(0)
    expect(card("Open")).to_have_count(0)
    assert admin.get(f"/tickets/{ticket['id']}").json()["status"] == "in_progress"
