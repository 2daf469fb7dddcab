"""An agent's day in the browser: following a ticket and naming a colleague in a note;
merging a duplicate into the main ticket, which then shows it."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Cast, Login, make_login, sign_in
from ticketdesk.config import Settings

pytestmark = pytest.mark.browser


def _ticket(api: Callable[[Login], httpx.Client], login: Login, title: str, text: str) -> Any:
    created = api(login).post("/tickets", json={"type": "bug", "title": title, "description": text})
    created.raise_for_status()
    return created.json()


def test_an_agent_follows_a_ticket_and_mentions_a_colleague(
    new_page: Callable[..., Page],
    cast: Cast,
    api: Callable[[Login], httpx.Client],
    settings: Settings,
) -> None:
    assert settings.database_url is not None
    colleague = make_login(
        settings.database_url, "katherine@example.com", "Katherine Johnson", "agent"
    )
    ticket = _ticket(
        api, cast.user, "Invoices are off by one cent", "Every invoice total is one cent too low."
    )

    agent = new_page()
    sign_in(agent, cast.agent)
    agent.goto(f"/tickets/{ticket['number']}")
    followers = agent.get_by_role("region", name="Followers")
    expect(followers).to_contain_text("Not following")
    followers.get_by_role("button", name="Follow").click()
    expect(followers).to_contain_text("You follow this ticket")
    expect(followers.get_by_role("list", name="People following this ticket")).to_contain_text(
        "Grace Hopper"
    )

    agent.get_by_role("radio", name="Internal note").check()
    agent.get_by_role("textbox", name="Message").fill(
        "@katherine could you check the rounding in the tax module?"
    )
    agent.get_by_role("button", name="Add internal note").click()
    expect(
        agent.get_by_role("article", name="Internal note by").filter(has_text="rounding")
    ).to_be_visible()

    other = new_page()
    sign_in(other, colleague)
    nav = other.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Mentions (1)")).to_be_visible()
    nav.get_by_role("link", name="Mentions (1)").click()
    mention = other.get_by_role("list", name="Mentions").get_by_role("listitem")
    expect(mention).to_contain_text("Grace Hopper mentioned you on")
    other.get_by_role("button", name="Mark all read").click()
    expect(nav.get_by_role("link", name="Mentions", exact=True)).to_be_visible()
    mention.get_by_role("link", name=f"#{ticket['number']} Invoices are off by one cent").click()
    expect(other.get_by_text("could you check the rounding")).to_be_visible()

    # The submitter sees neither the note nor who follows.
    user = new_page()
    sign_in(user, cast.user)
    user.goto(f"/tickets/{ticket['number']}")
    expect(user.get_by_role("region", name="Followers")).to_contain_text("You follow this ticket")
    expect(user.get_by_text("rounding")).to_have_count(0)
    expect(user.get_by_text("Grace Hopper")).to_have_count(0)


def test_an_agent_merges_a_duplicate_and_the_main_ticket_shows_it(
    new_page: Callable[..., Page],
    cast: Cast,
    api: Callable[[Login], httpx.Client],
    settings: Settings,
) -> None:
    assert settings.database_url is not None
    other_user = make_login(settings.database_url, "mary@example.com", "Mary Jackson", "user")
    main = _ticket(
        api, cast.user, "PDF export crashes the app", "Exporting any report as PDF crashes it."
    )
    duplicate = _ticket(
        api, other_user, "App closes when I export a PDF", "The app just closes on PDF export."
    )
    api(other_user).post(
        f"/tickets/{duplicate['id']}/comments", json={"comment": "It started after the update."}
    ).raise_for_status()

    agent = new_page()
    sign_in(agent, cast.agent)
    agent.goto(f"/tickets/{duplicate['number']}")
    panel = agent.get_by_role("region", name="Merge")
    panel.get_by_label("Merge this ticket into").fill(f"#{main['number']}")
    panel.get_by_role("button", name="Merge…").click()
    expect(panel).to_contain_text("Its comments, files and followers move")
    panel.get_by_role("button", name=f"Merge into #{main['number']}").click()
    banner = f"This ticket was merged into #{main['number']} PDF export crashes the app"
    expect(agent.get_by_text(banner)).to_be_visible()
    expect(panel.get_by_role("button", name="Undo merge")).to_be_visible()

    agent.get_by_role("link", name=f"#{main['number']} PDF export crashes the app").click()
    expect(agent.get_by_role("heading", level=1)).to_contain_text("PDF export crashes the app")
    expect(agent.get_by_text("It started after the update.")).to_be_visible()
    expect(agent.get_by_role("region", name="Merge")).to_contain_text(
        f"Merged into this one: #{duplicate['number']}"
    )
    expect(agent.get_by_text(f"merged #{duplicate['number']} into this ticket")).to_be_visible()
    expect(agent.get_by_role("list", name="People following this ticket")).to_contain_text(
        "Mary Jackson"
    )

    # The duplicate's submitter still opens it, sees where it went, and can follow there.
    mary = new_page()
    sign_in(mary, other_user)
    mary.goto(f"/tickets/{duplicate['number']}")
    expect(mary.get_by_text(banner)).to_be_visible()
    expect(mary.get_by_text("as a duplicate. The conversation continues there")).to_be_visible()
    mary.get_by_role("link", name=f"#{main['number']} PDF export crashes the app").click()
    expect(mary.get_by_text("It started after the update.")).to_be_visible()
    expect(mary.get_by_role("region", name="Followers")).to_contain_text("You follow this ticket")
