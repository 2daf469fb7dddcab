"""The API docs page runs Swagger UI from the server itself, within its strict CSP."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, Request, Route, expect

pytestmark = pytest.mark.browser

# Swagger UI asks an online validator about specs not on localhost or 127.0.0.1, so the
# page is opened under a public-looking name, every request for it passed to the server.
_HOST = "http://docs.ticketdesk.test"


def _scroll_to(page: Page, target: Locator, *, steps: int = 120) -> None:
    """Scroll down the page as a reader would until ``target`` is in view.

    The Swagger UI we ship (5.35) renders a list of 150 tags and operations or more only around
    the view, so an operation further down is not on the page until it is scrolled to.
    """
    for _ in range(steps):
        if target.count():
            break
        # Half a screen down (the list renders a few rows beyond the view, so the target
        # is on the page for a step or two), then the frames in which the list renders
        # what came into view.
        page.evaluate(
            "() => new Promise((done) => { window.scrollBy(0, window.innerHeight / 2);"
            " requestAnimationFrame(() => requestAnimationFrame(done)); })"
        )
    expect(target).to_be_attached()
    target.scroll_into_view_if_needed()
    expect(target).to_be_visible()


def test_swagger_ui_from_our_own_origin(new_page: Callable[..., Page], live_server: str) -> None:
    """The docs list the operations; every request they make stays on the server's origin.

    A script, style, image or request the page's CSP refused (such as Swagger UI's
    validator badge from validator.swagger.io) would be a console error, which fails the
    test.
    """
    page = new_page()
    requested: list[str] = []

    def note(request: Request) -> None:
        requested.append(request.url)

    def to_server(route: Route) -> None:
        url = live_server + route.request.url.removeprefix(_HOST)
        route.fulfill(response=route.fetch(url=url))

    page.route(f"{_HOST}/**", to_server)
    page.on("request", note)
    page.goto(f"{_HOST}/api/v1/docs")

    expect(page.get_by_role("heading", name="ticketdesk")).to_be_visible()
    expect(page.get_by_text("/api/v1/auth/signup")).to_be_visible()
    operation = page.get_by_text("/api/v1/tickets/{id}/attachments").first
    _scroll_to(page, operation)
    operation.click()
    expect(page.get_by_role("button", name="Try it out").first).to_be_visible()
    expect(page.locator(".validator-badge, img[src*='validator']")).to_have_count(0)
    assert requested
    assert all(url.startswith((_HOST, "data:")) for url in requested), requested
