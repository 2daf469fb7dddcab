"""An agent answers with a canned reply, chosen and sent without leaving the keyboard."""

import re
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.backlog import Backlog
from tests.e2e.conftest import Cast, Login, assert_accessible, refused, sign_in

pytestmark = pytest.mark.browser


def test_agent_inserts_a_canned_reply_with_the_keyboard_and_sends_it(
    new_page: Callable[..., Page],
    cast: Cast,
    backlog: Backlog,
    api: Callable[[Login], httpx.Client],
) -> None:
    """ "/" in the empty reply opens the list; typing filters it, arrows and Enter insert
    the reply filled in for this ticket; it is edited and sent with its status and label."""
    agent = api(cast.agent)
    ticket = (
        api(cast.user)
        .post(
            "/tickets",
            json={
                "type": "bug",
                "title": "Invoice totals are rounded twice",
                "description": "Every invoice total is off by a cent since Monday's update.",
            },
        )
        .json()
    )
    assert agent.put(f"/tickets/{ticket['id']}", json={"status": "in_progress"}).status_code == 200
    for body in (
        {"title": "Need more details", "body": "Hi {{ submitter.name }}, could you tell us more?"},
        {
            "title": "Fixed in the next release",
            "body": "Hi {{ submitter.name }}, #{{ ticket.number }} is fixed. {{ agent.name }}",
            "set_status": "resolved",
            "add_labels": ["billing"],
        },
    ):
        assert agent.post("/canned-replies", json=body).status_code == 201

    page = new_page()
    sign_in(page, cast.agent)
    page.goto(f"/tickets/{ticket['number']}")
    message = page.get_by_role("textbox", name="Message")
    message.click()
    page.keyboard.press("/")
    search = page.get_by_role("combobox", name="Find a canned reply")
    expect(search).to_be_focused()
    page.keyboard.press("Escape")  # gives the "/" back, and the focus
    expect(search).to_be_hidden()
    expect(message).to_have_value("/")
    expect(message).to_be_focused()
    page.keyboard.press("Tab")  # focus leaving the list closes it where it went
    message.fill("")
    page.get_by_role("button", name="Canned replies").click()
    expect(search).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(search).to_be_hidden()
    expect(page.get_by_role("button", name="Canned replies")).to_be_focused()
    message.click()
    page.keyboard.press("/")

    expect(search).to_be_focused()
    options = page.get_by_role("listbox", name="Canned replies").get_by_role("option")
    expect(options).to_have_count(2)
    assert_accessible(page)
    page.keyboard.type("release")
    expect(options).to_have_count(1)
    expect(options.first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")

    filled = f"Hi Alan Turing, #{ticket['number']} is fixed. Grace Hopper"
    expect(message).to_have_value(filled)
    expect(message).to_be_focused()
    expect(page.get_by_text("With this reply: status → resolved; labels + billing")).to_be_visible()
    page.keyboard.press("End")
    page.keyboard.type(" Thanks for your patience!")
    page.keyboard.press("Control+Enter")

    expect(page.get_by_text("Reply sent")).to_be_visible()
    expect(page.get_by_text(f"{filled} Thanks for your patience!")).to_be_visible()
    seen = agent.get(f"/tickets/{ticket['id']}").json()
    assert seen["status"] == "resolved"
    assert seen["tags"] == ["billing"]
    assert [c["comment"] for c in seen["comments"]] == [f"{filled} Thanks for your patience!"]


def test_admin_writes_a_shared_canned_reply(
    new_page: Callable[..., Page],
    cast: Cast,
    api: Callable[[Login], httpx.Client],
    expected_console_errors: list[re.Pattern[str]],
) -> None:
    """A variable that is not offered is refused on the text; fixed, the reply is shared."""
    expected_console_errors.append(refused(422, "/api/v1/canned-replies"))
    page = new_page()
    sign_in(page, cast.admin)
    page.get_by_role("button", name="account menu").click()
    page.get_by_role("menuitem", name="Canned replies").click()
    expect(page.get_by_role("heading", name="Canned replies", level=1)).to_be_visible()

    form = page.get_by_role("form", name="New canned reply")
    form.get_by_label("Title").fill("Password reset")
    form.get_by_label("Text").fill("Hi {{ submitter.email }}, use Forgot password.")
    form.get_by_label("All staff (shared)").check()
    form.get_by_label("Set the status").select_option("waiting")
    form.get_by_role("button", name="Save canned reply").click()
    expect(form.get_by_text("Unknown variable in line 1")).to_be_visible()
    expect(form.get_by_label("Text")).to_have_attribute("aria-invalid", "true")

    form.get_by_label("Text").fill("Hi {{ submitter.name }}, use Forgot password.")
    form.get_by_role("button", name="Save canned reply").click()

    listed = page.get_by_role("region", name="Canned replies")
    expect(listed.get_by_text("Password reset")).to_be_visible()
    expect(listed.get_by_text("status → Waiting")).to_be_visible()
    assert_accessible(page)
    shared = api(cast.agent).get("/canned-replies").json()
    assert [(r["title"], r["scope"], r["set_status"]) for r in shared] == [
        ("Password reset", "shared", "waiting")
    ]
