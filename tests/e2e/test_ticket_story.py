"""The main story: a submitter reports a problem, an agent answers it, the submitter accepts."""

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import FilePayload, Locator, Page, expect

from tests.e2e.backlog import Backlog
from tests.e2e.conftest import Cast, Login, refused, screenshot, sign_in

pytestmark = pytest.mark.browser

TITLE = "Checkout page shows a blank screen after applying a coupon"
DESCRIPTION = """\
Since this morning the checkout page goes **blank** right after I apply a coupon code.

1. Add any plan to the cart
2. Enter the coupon `SPRING24`
3. Click **Apply**

The browser console output is attached.
"""
LOG_NAME = "console-output.txt"
LOG = b"Uncaught TypeError: Cannot read properties of undefined (reading 'total')\n"
NOTE = "Internal: coupon service returns null totals, see incident INC-4821"
REPLY = "Thanks for the report! We found the cause and deployed a fix - please try again."


def ticket_header(page: Page) -> Locator:
    """The ticket's title with its status, type and priority."""
    return page.locator("main header", has=page.get_by_role("heading", level=1))


def submit_ticket(page: Page) -> int:
    """Fill the new-ticket form with an attachment, send it, return the ticket's number."""
    page.get_by_role("link", name="New ticket").click()
    expect(page.get_by_role("heading", name="New ticket")).to_be_visible()
    page.get_by_role("radio", name="Bug").check()
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Description", exact=True).fill(DESCRIPTION)
    preview = page.get_by_role("region", name="Markdown preview")
    expect(preview.locator("strong", has_text="blank")).to_be_visible()
    expect(preview.locator("code", has_text="SPRING24")).to_be_visible()
    page.get_by_label("Priority").select_option("high")
    page.set_input_files(
        "#attachments", files=FilePayload(name=LOG_NAME, mimeType="text/plain", buffer=LOG)
    )
    expect(page.get_by_role("list", name="Files to upload")).to_contain_text(LOG_NAME)
    screenshot(page, "portal-new-ticket", full_page=True)

    page.get_by_role("button", name="Submit ticket").click()
    page.wait_for_url(re.compile(r"/tickets/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    expect(page.get_by_role("region", name="Attachments (1)")).to_contain_text(LOG_NAME)
    return int(page.url.rsplit("/", 1)[1])


def test_submitter_and_agent_resolve_a_ticket(
    new_page: Callable[..., Page],
    cast: Cast,
    backlog: Backlog,
    api: Callable[[Login], httpx.Client],
    tmp_path: Path,
) -> None:
    """Submit with a file → triage, note and reply → the submitter sees only the reply."""
    user = new_page()
    sign_in(user, cast.user)
    number = submit_ticket(user)
    user.get_by_role("navigation", name="Main").get_by_role("link", name="My tickets").click()
    expect(user.get_by_role("link", name=f"#{number} {TITLE}")).to_be_visible()
    screenshot(user, "my-tickets")

    agent = new_page()
    sign_in(agent, cast.agent)
    expect(agent).to_have_url(re.compile(r"/triage/unassigned$"))
    link = agent.get_by_role("link", name=f"#{number} {TITLE}")
    link.click()

    with agent.expect_download() as download:
        agent.get_by_role("link", name=f"Download {LOG_NAME}").click()
    saved = tmp_path / LOG_NAME
    download.value.save_as(saved)
    assert saved.read_bytes() == LOG

    agent.get_by_label("Assignee").select_option(label=f"Me ({cast.agent.name})")
    expect(agent.get_by_role("status").filter(has_text="Assigned to Grace Hopper")).to_be_visible()

    agent.get_by_role("radio", name="Internal note").check()
    agent.get_by_role("textbox", name="Message").fill(NOTE)
    agent.get_by_role("button", name="Add internal note").click()
    expect(agent.get_by_role("article", name="Internal note by Grace Hopper")).to_contain_text(NOTE)

    agent.get_by_role("radio", name="Public reply").check()
    agent.get_by_role("textbox", name="Message").fill(REPLY)
    agent.get_by_role("button", name="Send reply").click()
    expect(agent.get_by_role("article", name="Comment by Grace Hopper")).to_contain_text(REPLY)

    agent.get_by_role("button", name="Edit").click()
    agent.get_by_role("checkbox", name="billing").check()
    expect(ticket_header(agent)).to_contain_text("billing")
    agent.get_by_role("button", name="Done").click()

    status = agent.get_by_label("Status", exact=True)
    status.select_option("in_progress")
    expect(ticket_header(agent)).to_contain_text("In progress")
    status.select_option("resolved")
    expect(ticket_header(agent)).to_contain_text("Resolved")
    screenshot(agent, "ticket-agent", full_page=True)

    user.goto(f"/tickets/{number}")
    expect(user.get_by_role("article", name="Comment by Grace Hopper")).to_contain_text(REPLY)
    expect(user.locator("body")).not_to_contain_text(NOTE)
    assert NOTE not in user.content()
    expect(user.get_by_role("article", name=re.compile("Internal note"))).to_have_count(0)
    screenshot(user, "ticket-submitter", full_page=True)
    user.get_by_role("button", name="Accept resolution").click()
    expect(user.get_by_text("This ticket is closed")).to_be_visible()

    agent.reload()
    expect(ticket_header(agent)).to_contain_text("Closed")
    expect(status).to_have_value("closed")
    agent.get_by_role("navigation", name="Main").get_by_role("link", name="Triage").click()
    agent.get_by_role("navigation", name="Triage views").get_by_role("link", name="Closed").click()
    expect(agent.get_by_role("link", name=f"#{number} {TITLE}")).to_be_visible()
    ticket = api(cast.agent).get(f"/tickets/{number}").json()
    assert ticket["status"] == "closed"
    assert ticket["assigned_to_user_id"] == cast.agent.id


def test_a_refused_upload_says_why(
    new_page: Callable[..., Page],
    cast: Cast,
    backlog: Backlog,
    expected_console_errors: list[re.Pattern[str]],
) -> None:
    """A file the server will not take is named, with the server's reason, not a shrug."""
    ticket = backlog.tickets["Export to CSV times out for reports over 10k rows"]
    expected_console_errors.append(refused(415, f"/tickets/{ticket['id']}/attachments"))
    page = new_page()
    sign_in(page, cast.user)
    page.goto(f"/tickets/{ticket['number']}")
    attachments = page.get_by_role("region", name="Attachments (0)")
    attachments.get_by_role("button", name="Attach files").click()
    # Bytes the browser cannot judge by name or type; the server sniffs them and refuses.
    capture = FilePayload(
        name="capture.bin", mimeType="application/octet-stream", buffer=b"\x00\x01\x02" * 100
    )
    page.set_input_files("#ticket-attachments", files=capture)
    attachments.get_by_role("button", name="Upload").click()

    toast = page.get_by_role("alert").filter(has_text="capture.bin was not attached")
    expect(toast).to_contain_text("This kind of file is not accepted. Accepted:")
    expect(toast).not_to_contain_text("Something went wrong")
    expect(attachments.get_by_role("link", name="Download capture.bin")).to_have_count(0)
