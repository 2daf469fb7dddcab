"""The submitter screens on a 390 px wide phone: sign up, report, follow up."""

import re
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import FilePayload, Page, expect

from tests.e2e.conftest import Cast, Login, sign_in

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 390, 844
TITLE = "App crashes when I rotate the phone on the invoice screen"
DESCRIPTION = (
    "Every time I turn the phone sideways while an invoice is open the app closes.\n\n"
    "- Pixel 8, Android 15\n- Happens with every invoice\n"
)
STACK_LINE = (
    "E/AndroidRuntime: FATAL EXCEPTION: main Process: com.example.invoices, PID: 4711 "
    "java.lang.IllegalStateException: Fragment InvoiceFragment{5c1e0f2} not attached to a context."
)


def assert_fits_the_screen(page: Page) -> None:
    """Nothing sticks out sideways: the page never scrolls horizontally."""
    page.wait_for_load_state("networkidle")
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} is {width} px wide on a {WIDTH} px screen"


def test_submitter_on_a_phone(
    new_page: Callable[..., Page], cast: Cast, api: Callable[[Login], httpx.Client]
) -> None:
    """Sign up, submit a ticket with a photo, find it in My tickets — all within 390 px."""
    page = new_page(width=WIDTH, height=HEIGHT)
    page.goto("/signup")
    assert_fits_the_screen(page)
    page.get_by_label("Name").fill("Rosalind Franklin")
    page.get_by_label("Email").fill("rosalind@example.com")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", name="New ticket")).to_be_visible()
    assert_fits_the_screen(page)
    photo = page.screenshot()
    page.get_by_role("radio", name="Bug").check()
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Description", exact=True).fill(DESCRIPTION)
    page.set_input_files(
        "#attachments", files=FilePayload(name="rotated.png", mimeType="image/png", buffer=photo)
    )
    expect(page.get_by_role("list", name="Files to upload")).to_contain_text("rotated.png")
    assert_fits_the_screen(page)
    submit = page.get_by_role("button", name="Submit ticket")
    submit.scroll_into_view_if_needed()
    expect(submit).to_be_in_viewport()
    submit.click()

    page.wait_for_url(re.compile(r"/tickets/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    expect(page.get_by_role("region", name="Attachments (1)")).to_contain_text("rotated.png")
    assert_fits_the_screen(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My tickets").click()
    expect(page.get_by_role("link", name=re.compile(re.escape(TITLE)))).to_be_visible()
    assert_fits_the_screen(page)

    # A second report: the long title of the first one is suggested as a similar ticket.
    page.get_by_role("link", name="New ticket").click()
    page.get_by_label("Title", exact=True).fill("App crashes when I rotate the phone again")
    similar = page.get_by_role("region", name="Similar tickets")
    expect(similar.get_by_role("link", name=re.compile(re.escape(TITLE)))).to_be_visible()
    assert_fits_the_screen(page)

    tickets = api(cast.agent).get("/tickets", params={"q": "rotate"}).json()["items"]
    assert [t["title"] for t in tickets] == [TITLE]
    assert tickets[0]["submitter"]["name"] == "Rosalind Franklin"


def test_long_code_line_on_a_phone(
    new_page: Callable[..., Page], cast: Cast, api: Callable[[Login], httpx.Client]
) -> None:
    """A pasted stack trace scrolls inside its box; the page itself stays 390 px wide."""
    created = api(cast.user).post(
        "/tickets",
        json={
            "type": "bug",
            "title": "Crash when rotating with an invoice open",
            "description": f"The log says:\n\n```\n{STACK_LINE}\n```\n",
        },
    )
    created.raise_for_status()
    number = created.json()["number"]
    api(cast.user).post(
        f"/tickets/{number}/comments",
        json={"comment": f"Again today: `{STACK_LINE}`", "is_internal": False},
    ).raise_for_status()

    page = new_page(width=WIDTH, height=HEIGHT)
    sign_in(page, cast.user)
    page.goto(f"/tickets/{number}")
    code = page.get_by_role("article", name="Description").locator("pre")
    expect(code).to_contain_text(STACK_LINE)
    assert_fits_the_screen(page)
    box = code.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= WIDTH
    assert code.evaluate("pre => pre.scrollWidth > pre.clientWidth"), "the line does not scroll"
