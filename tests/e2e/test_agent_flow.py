"""An agent's quicker day: a ticket opened for a walk-in customer, bulk and board moves that
offer only what the status flow allows (and say why), and the keyboard shortcuts."""

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.backlog import Backlog
from tests.e2e.conftest import Cast, Login, sign_in
from tests.mailservers import SmtpServer

pytestmark = pytest.mark.browser

VAT = "Invoice PDF shows the wrong VAT rate for Germany"
WEBHOOKS = "Webhook retries flood our Slack channel"
TWO_FACTOR = "Two-factor login loops back to the sign-in page on Safari"


def number(backlog: Backlog, title: str) -> int:
    return int(backlog.tickets[title]["number"])


class TestOnBehalfOf:
    @pytest.fixture
    def settings_overrides(self, smtp_server: SmtpServer, live_port: int) -> dict[str, Any]:
        """Mail on: a new customer is invited by mail, and told of the ticket at once."""
        return {
            "smtp_url": smtp_server.url,
            "base_url": f"http://127.0.0.1:{live_port}",
            "notifications": {"burst_seconds": 0.3},
        }

    @pytest.fixture
    def serve_jobs(self) -> bool:
        """The invitation and the receipt are mailed by jobs."""
        return True

    def test_an_agent_opens_a_ticket_for_a_new_address(
        self,
        new_page: Callable[..., Page],
        cast: Cast,
        smtp_server: SmtpServer,
        api: Callable[[Login], httpx.Client],
    ) -> None:
        page = new_page()
        sign_in(page, cast.agent)
        page.get_by_role("link", name="New ticket").click()
        customer = page.get_by_role("combobox", name="Customer")
        # By keyboard: an existing account is picked, and the focus stays on the form.
        customer.fill(cast.user.name[:4])
        expect(
            page.get_by_role("option", name=re.compile(re.escape(cast.user.email)))
        ).to_be_visible()
        page.keyboard.press("Enter")
        chosen = page.get_by_role("group", name="Customer")
        expect(chosen).to_contain_text(cast.user.email)
        change = chosen.get_by_role("button", name="Change the customer")
        expect(change).to_be_focused()
        page.keyboard.press("Enter")
        expect(customer).to_be_focused()

        customer.fill("walk.in@example.com")
        page.get_by_role("option", name="Invite walk.in@example.com as a new customer").click()
        expect(page.get_by_role("group", name="Customer")).to_contain_text("walk.in@example.com")
        page.get_by_label("Customer's name").fill("Wanda Walk-in")
        page.get_by_role("radio", name="Support").check()
        page.get_by_label("Title", exact=True).fill("Cannot find the export button")
        page.get_by_label("Description", exact=True).fill(
            "Called the desk: the export button is gone since the last update."
        )
        page.get_by_role("button", name="Submit ticket").click()

        page.wait_for_url(re.compile(r"/tickets/\d+$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("Cannot find the export")
        expect(page.get_by_text("opened this ticket on behalf of Wanda Walk-in")).to_be_visible()
        ticket_number = int(page.url.rsplit("/", 1)[1])
        ticket = api(cast.agent).get(f"/tickets/{ticket_number}").json()
        assert ticket["submitter"]["name"] == "Wanda Walk-in"

        # The invitation, the receipt for the customer, the new ticket for the admin.
        mails = smtp_server.wait_for(3)
        to_customer = sorted(m["Subject"] for m in mails if "walk.in@example.com" in m["To"])
        assert to_customer == [
            "You are invited to ticketdesk",
            f"[#{ticket_number}] Cannot find the export button",
        ]


def test_the_bulk_status_menu_offers_only_allowed_moves(
    new_page: Callable[..., Page],
    cast: Cast,
    backlog: Backlog,
    api: Callable[[Login], httpx.Client],
) -> None:
    """An open and an in-progress ticket: Open is offered disabled, with why; Waiting
    (allowed from open too) is offered; Resolved (now allowed from open) is applied to
    both."""
    page = new_page()
    sign_in(page, cast.agent)
    page.goto("/triage/open")
    for title in (VAT, WEBHOOKS):
        page.get_by_role("checkbox", name=f"Select #{number(backlog, title)}").check()
    toolbar = page.get_by_role("toolbar", name="Bulk actions")
    menu = toolbar.get_by_label("Set status of selected")

    expect(menu.locator("option", has_text="Open —")).to_be_disabled()
    expect(menu.locator("option", has_text="Open —")).to_have_text("Open — not from 1 In progress")
    expect(menu.locator("option", has_text="Waiting")).to_be_enabled()
    expect(menu.locator("option", has_text="Resolved")).to_be_enabled()
    expect(toolbar).to_contain_text("1 ticket is In progress, which cannot go there")

    menu.select_option("resolved")
    expect(page.get_by_role("status").filter(has_text="Updated 2 tickets")).to_be_visible()
    for title in (VAT, WEBHOOKS):
        ticket = api(cast.agent).get(f"/tickets/{backlog.tickets[title]['id']}").json()
        assert ticket["status"] == "resolved"


def test_a_refused_board_move_explains_itself(
    new_page: Callable[..., Page],
    cast: Cast,
    backlog: Backlog,
    api: Callable[[Login], httpx.Client],
) -> None:
    """A card shows which columns will not take it, and a drop there says why."""
    page = new_page()
    sign_in(page, cast.agent)
    page.goto("/board")
    name = f"#{number(backlog, TWO_FACTOR)} {TWO_FACTOR}"
    resolved = page.get_by_role("region", name="Resolved", exact=True)
    card = resolved.get_by_role("article", name=name)
    waiting = page.get_by_role("region", name="Waiting")

    card.focus()
    expect(waiting).to_contain_text(f"#{number(backlog, TWO_FACTOR)} cannot go here from Resolved")
    card.drag_to(waiting)

    refusal = page.locator("#board-refusal")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("cannot go from Resolved to Waiting")
    expect(refusal).to_contain_text("it may go to Open, Closed")
    # Said once to a screen reader, by the board's one announcement.
    expect(page.locator("main [aria-live=assertive]")).to_have_text(refusal.inner_text())
    expect(resolved.get_by_role("article", name=name)).to_be_visible()
    ticket = api(cast.agent).get(f"/tickets/{backlog.tickets[TWO_FACTOR]['id']}").json()
    assert ticket["status"] == "resolved"


def test_keyboard_shortcuts(new_page: Callable[..., Page], cast: Cast, backlog: Backlog) -> None:
    """? lists the keys; j/k move through triage, a assigns, / searches, r goes to the reply."""
    page = new_page()
    sign_in(page, cast.agent)
    page.goto("/triage/open")
    rows = page.get_by_role("row")
    expect(rows.nth(3)).to_be_visible()

    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_contain_text("Next ticket in a triage list")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()

    first, second = rows.nth(1).get_by_role("link"), rows.nth(2).get_by_role("link")
    page.keyboard.press("j")
    expect(first).to_be_focused()
    page.keyboard.press("j")
    expect(second).to_be_focused()
    page.keyboard.press("k")
    expect(first).to_be_focused()
    picked = first.inner_text()
    page.keyboard.press("a")
    expect(page.get_by_role("status").filter(has_text="to you")).to_be_visible()
    expect(rows.filter(has_text=picked)).to_contain_text(cast.agent.name)

    page.keyboard.press("/")
    search = page.get_by_role("searchbox", name="Search tickets")
    expect(search).to_be_focused()
    page.keyboard.type("jk")
    expect(search).to_have_value("jk")
    expect(search).to_be_focused()

    page.goto(f"/tickets/{number(backlog, VAT)}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(VAT)
    page.keyboard.press("r")
    expect(page.get_by_role("textbox", name="Message")).to_be_focused()


def test_a_assigns_the_focused_ticket_after_the_list_changes(
    new_page: Callable[..., Page],
    cast: Cast,
    backlog: Backlog,
    api: Callable[[Login], httpx.Client],
) -> None:
    """A ticket opened meanwhile (a live update) takes the top row: `a` still assigns the
    ticket whose row has the focus, not the one now where it stood."""
    page = new_page()
    sign_in(page, cast.agent)
    page.goto("/triage/open")
    rows = page.get_by_role("row")
    expect(rows.nth(3)).to_be_visible()
    page.keyboard.press("j")
    focused = rows.nth(1).get_by_role("link")
    expect(focused).to_be_focused()
    picked = focused.get_attribute("href")
    assert picked is not None

    response = api(cast.user).post(
        "/tickets",
        json={
            "type": "support",
            "title": "Password reset mail never arrives",
            "description": "I asked for a reset link three times and got nothing.",
        },
    )
    response.raise_for_status()
    newcomer = response.json()
    expect(rows.nth(1)).to_contain_text(newcomer["title"])
    expect(page.locator(f'a[href="{picked}"]')).to_be_focused()

    page.keyboard.press("a")
    ticket_number = picked.rsplit("/", 1)[1]
    expect(
        page.get_by_role("status").filter(has_text=f"Assigned #{ticket_number} to you")
    ).to_be_visible()
    picked_ticket = api(cast.agent).get(f"/tickets/{ticket_number}").json()
    assert picked_ticket["assigned_to_user_id"] == cast.agent.id
    assert api(cast.agent).get(f"/tickets/{newcomer['id']}").json()["assigned_to_user_id"] is None
