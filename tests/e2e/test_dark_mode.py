"""Dark mode: follows the system setting, renders every main screen, can be switched off."""

import re
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.backlog import Backlog
from tests.e2e.conftest import Cast, Login, screenshot, sign_in

pytestmark = pytest.mark.browser

DARK = re.compile(r"\bdark\b")
EXPORT = "Export to CSV times out for reports over 10k rows"

# Any CSS colour (Tailwind 4 computes oklch) as sRGB, through a canvas.
RGB = """(color) => {
    const context = document.createElement('canvas').getContext('2d');
    context.fillStyle = color;
    context.fillRect(0, 0, 1, 1);
    return Array.from(context.getImageData(0, 0, 1, 1).data.slice(0, 3));
}"""


def colours(page: Page) -> tuple[list[int], list[int]]:
    """The page's background and text colours as sRGB."""
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    text = page.evaluate("getComputedStyle(document.body).color")
    return page.evaluate(RGB, background), page.evaluate(RGB, text)


def assert_dark(page: Page) -> None:
    """Light text on a dark background."""
    background, text = colours(page)
    assert max(background) < 60, f"background {background} on {page.url}"
    assert min(text) > 200, f"text {text} on {page.url}"


def test_dark_mode_screens(
    new_page: Callable[..., Page],
    cast: Cast,
    backlog: Backlog,
    api: Callable[[Login], httpx.Client],
) -> None:
    """An agent with a dark system theme works through triage, board and a ticket."""
    ticket = backlog.tickets[EXPORT]
    api(cast.agent).post(
        f"/tickets/{ticket['id']}/comments",
        json={"comment": "Pairing with Margaret on the query plan tomorrow.", "is_internal": True},
    ).raise_for_status()

    page = new_page(dark=True)
    sign_in(page, cast.agent)
    expect(page.locator("html")).to_have_class(DARK)
    expect(page.get_by_role("table")).to_be_visible()
    assert_dark(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Board").click()
    expect(page.get_by_role("region", name="Open", exact=True)).to_be_visible()
    assert_dark(page)

    page.goto(f"/tickets/{ticket['number']}")
    expect(page.get_by_role("article", name="Internal note by Grace Hopper")).to_be_visible()
    assert_dark(page)
    screenshot(page, "ticket-agent-dark")

    page.get_by_role("button", name="Switch to light theme").click()
    expect(page.locator("html")).not_to_have_class(DARK)
    page.reload()
    expect(page.get_by_role("button", name="Switch to dark theme")).to_be_visible()
    background, _ = colours(page)
    assert min(background) > 200, "the light theme did not stick"
