"""Agents working the queue: bulk actions in the triage table, moving cards on the board."""

import time
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.backlog import Backlog
from tests.e2e.conftest import Cast, Login, screenshot, sign_in

pytestmark = pytest.mark.browser

VAT = "Invoice PDF shows the wrong VAT rate for Germany"
SHORTCUTS = "Add keyboard shortcuts to the ticket editor"
DARK_MODE = "Dark mode for the customer dashboard"
WEBHOOKS = "Webhook retries flood our Slack channel"
PASSWORD_RESET = "Password reset email never arrives"


def ticket_link(backlog: Backlog, title: str) -> str:
    """The accessible name of a ticket's link or card: number and title."""
    return f"#{backlog.tickets[title]['number']} {title}"


def wait_for_status(client: httpx.Client, ticket_id: str, status: str) -> None:
    """Wait until the server has the ticket in ``status`` (the board moves cards first)."""
    deadline = time.monotonic() + 10
    while (current := client.get(f"/tickets/{ticket_id}").json()["status"]) != status:
        assert time.monotonic() < deadline, f"the ticket stayed {current}, not {status}"
        time.sleep(0.1)


def test_bulk_assign_from_the_table(
    new_page: Callable[..., Page],
    cast: Cast,
    backlog: Backlog,
    api: Callable[[Login], httpx.Client],
) -> None:
    """Select two tickets, assign them to me from the bulk bar; both leave Unassigned.

    They stay selected afterwards, so the agent can follow up on the same tickets.
    """
    page = new_page()
    sign_in(page, cast.agent)
    page.get_by_role("navigation", name="Triage views").get_by_role("link", name="All open").click()
    expect(page.get_by_role("link", name=ticket_link(backlog, WEBHOOKS))).to_be_visible()

    page.get_by_role("checkbox", name="Select all tickets on this page").check()
    toolbar = page.get_by_role("toolbar", name="Bulk actions")
    expect(toolbar).to_contain_text("7 selected")
    toolbar.get_by_role("button", name="Clear selection").click()
    expect(toolbar).to_be_hidden()

    chosen = (VAT, SHORTCUTS)
    for title in chosen:
        page.get_by_role("checkbox", name=f"Select #{backlog.tickets[title]['number']}").check()
    expect(toolbar).to_contain_text("2 selected")
    screenshot(page, "triage")
    toolbar.get_by_label("Assign selected").select_option(label="Me")

    expect(page.get_by_role("status").filter(has_text="Updated 2 tickets")).to_be_visible()
    for title in chosen:
        link = page.get_by_role("link", name=ticket_link(backlog, title))
        expect(page.get_by_role("row").filter(has=link)).to_contain_text(cast.agent.name)
    expect(toolbar).to_contain_text("2 selected")
    for title in chosen:
        number = backlog.tickets[title]["number"]
        expect(page.get_by_role("checkbox", name=f"Select #{number}")).to_be_checked()
    for title in chosen:
        ticket = api(cast.agent).get(f"/tickets/{backlog.tickets[title]['id']}").json()
        assert ticket["assigned_to_user_id"] == cast.agent.id

    page.get_by_role("navigation", name="Triage views").get_by_role(
        "link", name="Unassigned"
    ).click()
    expect(page.get_by_role("link", name=ticket_link(backlog, PASSWORD_RESET))).to_be_visible()
    for title in chosen:
        expect(page.get_by_role("link", name=ticket_link(backlog, title))).to_have_count(0)


def test_move_cards_on_the_board(
    new_page: Callable[..., Page],
    cast: Cast,
    backlog: Backlog,
    api: Callable[[Login], httpx.Client],
) -> None:
    """A card moves by drag and drop, by Shift+→ and by its Move menu; the server agrees."""
    client = api(cast.agent)
    page = new_page()
    sign_in(page, cast.agent)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Board").click()

    def card(status: str, title: str) -> Locator:
        column = page.get_by_role("region", name=status, exact=True)
        return column.get_by_role("article", name=ticket_link(backlog, title))

    card("Open", DARK_MODE).drag_to(page.get_by_role("region", name="In progress"))
    expect(card("In progress", DARK_MODE)).to_be_visible()
    expect(card("Open", DARK_MODE)).to_have_count(0)
    wait_for_status(client, backlog.tickets[DARK_MODE]["id"], "in_progress")

    card("Open", VAT).focus()
    page.keyboard.press("Shift+ArrowRight")
    expect(card("In progress", VAT)).to_be_focused()
    # The next move waits for this one to be saved, as a person reading the card would.
    expect(card("In progress", VAT)).to_have_attribute("aria-busy", "false")
    page.keyboard.press("Shift+ArrowRight")
    expect(card("Waiting", VAT)).to_be_focused()
    wait_for_status(client, backlog.tickets[VAT]["id"], "waiting")

    page.get_by_role("button", name=f"Move #{backlog.tickets[WEBHOOKS]['number']}").click()
    page.get_by_role("menuitem", name="Resolved").click()
    expect(card("Resolved", WEBHOOKS)).to_be_visible()
    wait_for_status(client, backlog.tickets[WEBHOOKS]["id"], "resolved")

    page.reload()
    expect(card("Waiting", VAT)).to_be_visible()
    expect(card("In progress", DARK_MODE)).to_be_visible()
    screenshot(page, "kanban")


# One person opens 52 tickets here, past the 30 an hour a person may open by default; an
# operator raises the limit the same way for an integration that files tickets.
@pytest.mark.parametrize("settings_overrides", [{"rate_limits": {"tickets_per_hour": 60}}])
def test_bulk_action_keeps_rows_loaded_beyond_the_first_page(
    new_page: Callable[..., Page],
    cast: Cast,
    api: Callable[[Login], httpx.Client],
) -> None:
    """Tickets picked after "Load more" stay listed and selected once the bulk action is done."""
    submitter = api(cast.user)
    numbers = {}
    for n in range(1, 53):
        title = f"Sync stalls on device {n}"
        created = submitter.post(
            "/tickets",
            json={"type": "bug", "title": title, "description": f"Device {n} stops syncing."},
        )
        numbers[title] = created.raise_for_status().json()["number"]
    page = new_page()
    sign_in(page, cast.agent)
    page.goto("/triage/open")
    oldest, newest = "Sync stalls on device 1", "Sync stalls on device 52"
    expect(
        page.get_by_role("link", name=f"#{numbers[newest]} {newest}", exact=True)
    ).to_be_visible()
    expect(page.get_by_role("link", name=f"#{numbers[oldest]} {oldest}", exact=True)).to_have_count(
        0
    )
    page.get_by_role("button", name="Load more").click()
    expect(
        page.get_by_role("link", name=f"#{numbers[oldest]} {oldest}", exact=True)
    ).to_be_visible()

    for title in (oldest, newest):
        page.get_by_role("checkbox", name=f"Select #{numbers[title]}", exact=True).check()
    toolbar = page.get_by_role("toolbar", name="Bulk actions")
    toolbar.get_by_label("Assign selected").select_option(label="Me")

    expect(page.get_by_role("status").filter(has_text="Updated 2 tickets")).to_be_visible()
    for title in (oldest, newest):
        link = page.get_by_role("link", name=f"#{numbers[title]} {title}", exact=True)
        expect(page.get_by_role("row").filter(has=link)).to_contain_text(cast.agent.name)
        checkbox = page.get_by_role("checkbox", name=f"Select #{numbers[title]}", exact=True)
        expect(checkbox).to_be_checked()
    expect(toolbar).to_contain_text("2 selected")
