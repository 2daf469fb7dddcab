"""A customer's reply in the browser: the ticket goes back to the agents, who see that the
customer is waiting for them until they answer; a long-closed ticket asks for a new one."""

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Cast, Login, sign_in

pytestmark = pytest.mark.browser

TITLE = "Invitations to new members bounce"
MARK = "Customer replied"


def header(page: Page) -> Locator:
    """The ticket's title with its status and marks."""
    return page.locator("main header", has=page.get_by_role("heading", level=1))


def open_ticket(api: Callable[[Login], httpx.Client], cast: Cast, *statuses: str) -> int:
    """The submitter's ticket, moved by the agent through ``statuses``; its number."""
    created = api(cast.user).post(
        "/tickets",
        json={
            "type": "support",
            "title": TITLE,
            "description": "Every invitation I send comes back as undeliverable.",
        },
    )
    created.raise_for_status()
    for status in statuses:
        api(cast.agent).put(
            f"/tickets/{created.json()['id']}", json={"status": status}
        ).raise_for_status()
    number: int = created.json()["number"]
    return number


def reply(page: Page, text: str) -> None:
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("article", name="Comment by").filter(has_text=text)).to_be_visible()


def test_agents_see_the_customer_waiting_until_they_answer(
    new_page: Callable[..., Page], cast: Cast, api: Callable[[Login], httpx.Client]
) -> None:
    number = open_ticket(api, cast, "in_progress", "waiting")

    user = new_page()
    sign_in(user, cast.user)
    user.goto(f"/tickets/{number}")
    expect(header(user)).to_contain_text("Waiting")
    reply(user, "The address is right, I checked it twice.")
    expect(header(user)).to_contain_text("In progress")
    expect(user.get_by_text(MARK)).to_have_count(0)

    agent = new_page()
    sign_in(agent, cast.agent)
    views = agent.get_by_role("navigation", name="Triage views")
    views.get_by_role("link", name=MARK).click()
    link = agent.get_by_role("link", name=f"#{number} {TITLE}")
    expect(agent.get_by_role("row").filter(has=link)).to_contain_text(MARK)
    link.click()
    expect(header(agent)).to_contain_text(MARK)

    reply(agent, "Found it: your domain's mail server refuses us. Details follow.")
    expect(header(agent)).not_to_contain_text(MARK)
    agent.get_by_role("navigation", name="Main").get_by_role("link", name="Triage").click()
    views.get_by_role("link", name=MARK).click()
    expect(agent.get_by_text("No customer is waiting for an answer")).to_be_visible()


class TestReplyToALongClosedTicket:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        """Replies never reopen a closed ticket."""
        return {"tickets": {"reopen_window_days": 0}}

    def test_asks_for_a_new_ticket(
        self, new_page: Callable[..., Page], cast: Cast, api: Callable[[Login], httpx.Client]
    ) -> None:
        number = open_ticket(api, cast, "closed")

        user = new_page()
        sign_in(user, cast.user)
        user.goto(f"/tickets/{number}")

        expect(user.get_by_text("a reply no longer reopens it")).to_be_visible()
        expect(user.get_by_role("textbox", name="Message")).to_have_count(0)
        expect(user.get_by_role("button", name="Reopen ticket")).to_have_count(0)
        user.get_by_role("link", name="New ticket").first.click()
        expect(user).to_have_url(re.compile(r"/tickets/new$"))
