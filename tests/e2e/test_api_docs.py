"""The API docs page runs Swagger UI from the server itself, within its strict CSP."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, Request, expect

pytestmark = pytest.mark.browser


def test_swagger_ui_from_our_own_origin(new_page: Callable[..., Page], live_server: str) -> None:
    """The docs list the operations; every request they make stays on the server's origin.

    A script, style or request the page's CSP refused would be a console error, which
    fails the test.
    """
    page = new_page()
    requested: list[str] = []

    def note(request: Request) -> None:
        requested.append(request.url)

    page.on("request", note)
    page.goto("/api/v1/docs")

    expect(page.get_by_role("heading", name="ticketdesk")).to_be_visible()
    expect(page.get_by_text("/api/v1/tickets/{id}/attachments").first).to_be_visible()
    page.get_by_text("/api/v1/tickets/{id}/attachments").first.click()
    expect(page.get_by_role("button", name="Try it out").first).to_be_visible()
    assert requested
    assert all(url.startswith((live_server, "data:")) for url in requested), requested
