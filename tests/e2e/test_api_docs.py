"""The API docs page runs Swagger UI from the server itself, within its strict CSP."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, Request, Route, expect

pytestmark = pytest.mark.browser

# Swagger UI asks an online validator about specs not on localhost or 127.0.0.1, so the
# page is opened under a public-looking name, every request for it passed to the server.
_HOST = "http://docs.ticketdesk.test"


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
    expect(page.get_by_text("/api/v1/tickets/{id}/attachments").first).to_be_visible()
    page.get_by_text("/api/v1/tickets/{id}/attachments").first.click()
    expect(page.get_by_role("button", name="Try it out").first).to_be_visible()
    expect(page.locator(".validator-badge, img[src*='validator']")).to_have_count(0)
    assert requested
    assert all(url.startswith((_HOST, "data:")) for url in requested), requested
