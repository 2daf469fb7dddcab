"""Administration: the people who can sign in and what they may do."""

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.backlog import Backlog
from tests.e2e.conftest import Cast, Login, screenshot, sign_in

pytestmark = pytest.mark.browser


def test_admin_promotes_a_submitter_to_agent(
    new_page: Callable[..., Page],
    cast: Cast,
    backlog: Backlog,
    api: Callable[[Login], httpx.Client],
) -> None:
    """Everyone is listed with their role; a changed role holds on the server."""
    page = new_page()
    sign_in(page, cast.admin)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    users = page.get_by_role("table")
    for name in ("Ada Lovelace", "Grace Hopper", "Margaret Hamilton", "Alan Turing"):
        expect(users).to_contain_text(name)
    expect(page.get_by_label("Role of Grace Hopper")).to_have_value("agent")

    page.get_by_label("Role of Katherine Johnson").select_option("agent")
    expect(
        page.get_by_role("status").filter(has_text="Katherine Johnson is now agent")
    ).to_be_visible()
    katherine = backlog.submitters["katherine"]
    agents = api(cast.admin).get("/users", params={"role": "agent"}).json()["items"]
    assert katherine.id in {a["id"] for a in agents}
    screenshot(page, "admin-users")


def test_admin_reads_the_timed_rules(new_page: Callable[..., Page], cast: Cast) -> None:
    """The Automation tab lists escalation and auto-close as configured, without a form."""
    page = new_page()
    sign_in(page, cast.admin)
    page.goto("/admin/users")
    page.get_by_role("navigation", name="Administration").get_by_role(
        "link", name="Automation"
    ).click()

    rules = page.get_by_role("definition")
    expect(rules.first).to_contain_text(
        "A critical ticket still not resolved or closed 4 hours after it was opened, "
        "with no public reply from staff, alerts admins once"
    )
    expect(rules.nth(1)).to_contain_text(
        "A ticket resolved 7 days ago, with no public reply since, is closed"
    )
    expect(page.get_by_role("textbox")).to_have_count(0)
    screenshot(page, "admin-automation")
