"""Custom fields: an admin defines one, a submitter fills it in, an agent filters by it."""

import re
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.backlog import Backlog
from tests.e2e.conftest import Cast, Login, assert_accessible, refused, sign_in

pytestmark = pytest.mark.browser

TITLE = "Checkout crashes when a coupon is applied"
DESCRIPTION = "Applying SPRING24 at checkout shows a blank page instead of the total."
OTHER = "Search results flicker while typing"


def test_a_required_severity_for_bugs(
    new_page: Callable[..., Page],
    cast: Cast,
    backlog: Backlog,
    api: Callable[[Login], httpx.Client],
    expected_console_errors: list[re.Pattern[str]],
) -> None:
    """The admin makes Severity a required select of bugs; the submitter must choose one
    (and sees none on a feature request); the agent narrows triage down to major bugs."""
    admin = new_page()
    sign_in(admin, cast.admin)
    admin.goto("/admin/users")
    admin.get_by_role("navigation", name="Administration").get_by_role(
        "link", name="Custom fields"
    ).click()
    admin.get_by_label("Label").fill("Severity")
    admin.get_by_label("Key").fill("severity")
    admin.get_by_label("Type").select_option("select")
    # A select without options is refused: the options take the focus, described by why.
    expected_console_errors.append(refused(422, "/api/v1/custom-fields"))
    admin.get_by_role("button", name="Create field").click()
    options = admin.get_by_label("Options, one a line")
    expect(options).to_be_focused()
    expect(options).to_have_attribute("aria-invalid", "true")
    expect(options).to_have_accessible_description(re.compile("needs at least one option"))
    options.fill("minor\nmajor\ncritical")
    types = admin.get_by_role("group", name="Ticket types")
    types.get_by_role("checkbox", name="Feature request", exact=True).uncheck()
    types.get_by_role("checkbox", name="Support", exact=True).uncheck()
    types.get_by_role("checkbox", name="Required for Bug").check()
    admin.get_by_role("button", name="Create field").click()
    fields = admin.get_by_role("region", name="Custom fields")
    expect(fields).to_contain_text("Single select: minor, major, critical")
    expect(fields).to_contain_text("required for Bug")
    assert_accessible(admin)

    # Another bug, of minor severity, that the agent's filter must leave out.
    other = api(cast.user).post(
        "/tickets",
        json={
            "type": "bug",
            "title": OTHER,
            "description": "Each keystroke redraws the whole result list.",
            "custom_fields": {"severity": "minor"},
        },
    )
    assert other.status_code == 201, other.text

    user = new_page()
    sign_in(user, cast.user)
    user.goto("/tickets/new")
    user.get_by_role("radio", name="Feature request").check()
    expect(user.get_by_label("Severity")).to_have_count(0)
    user.get_by_role("radio", name="Bug").check()
    user.get_by_label("Title", exact=True).fill(TITLE)
    user.get_by_label("Description", exact=True).fill(DESCRIPTION)
    # Sent without a severity: the server refuses it, naming the field.
    expected_console_errors.append(refused(422, "/api/v1/tickets"))
    user.get_by_role("button", name="Submit ticket").click()
    expect(user.get_by_text("Severity: is required for bug tickets.").first).to_be_visible()
    # The field the refusal names takes the focus, marked invalid and described by why.
    severity = user.get_by_label("Severity")
    expect(severity).to_be_focused()
    expect(severity).to_have_attribute("aria-invalid", "true")
    expect(severity).to_have_accessible_description("Severity: is required for bug tickets.")

    severity.select_option("major")
    assert_accessible(user)
    user.get_by_role("button", name="Submit ticket").click()
    user.wait_for_url(re.compile(r"/tickets/\d+$"))
    number = int(user.url.rsplit("/", 1)[1])
    details = user.get_by_role("region", name="Fields")
    expect(details).to_contain_text("Severity")
    expect(details).to_contain_text("major")
    assert_accessible(user)

    agent = new_page()
    sign_in(agent, cast.agent)
    agent.goto("/triage/open")
    expect(agent.get_by_role("link", name=f"#{number} {TITLE}")).to_be_visible()
    expect(agent.get_by_role("link", name=re.compile(OTHER))).to_be_visible()
    assert agent.get_by_role("table").get_by_role("row").count() > 3
    agent.get_by_label("Custom field").select_option("severity")
    agent.get_by_label("Severity is").select_option("major")
    expect(agent).to_have_url(re.compile(r"cf\.severity=major"))
    expect(agent.get_by_role("link", name=f"#{number} {TITLE}")).to_be_visible()
    expect(agent.get_by_role("link", name=re.compile(OTHER))).to_have_count(0)
    assert_accessible(agent)
    # The backlog's open tickets have no severity: the header row and this ticket remain.
    expect(agent.get_by_role("table").get_by_role("row")).to_have_count(2)
