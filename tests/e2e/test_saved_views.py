"""An agent saves the triage list they filtered as a view and sees its open count."""

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.backlog import Backlog
from tests.e2e.conftest import Cast, Login, assert_accessible, sign_in

pytestmark = pytest.mark.browser


def open_high(agent: httpx.Client) -> list[str]:
    """The ids of the open, in progress or waiting high-priority tickets, as the API lists them."""
    query = {"status": ["open", "in_progress", "waiting"], "priority": "high", "limit": 100}
    return [t["id"] for t in agent.get("/tickets", params=query).json()["items"]]


def test_agent_saves_a_view_and_sees_its_count_in_the_sidebar(
    new_page: Callable[..., Page],
    cast: Cast,
    backlog: Backlog,
    api: Callable[[Login], httpx.Client],
) -> None:
    agent = api(cast.agent)
    high = open_high(agent)
    assert len(high) >= 2, "the backlog has open high-priority tickets"

    page = new_page()
    sign_in(page, cast.agent)
    page.goto("/triage/open?priority=high&sort=-updated")
    sidebar = page.get_by_role("complementary", name="Saved views sidebar")
    expect(sidebar.get_by_text("None yet")).to_be_visible()
    sidebar.get_by_role("button", name="Save view").click()
    form = sidebar.get_by_role("form", name="Save this view")
    expect(form.get_by_label("Name")).to_be_focused()
    form.get_by_role("button", name="Cancel").click()
    expect(sidebar.get_by_role("button", name="Save view")).to_be_focused()
    sidebar.get_by_role("button", name="Save view").click()
    form.get_by_label("Name").fill("Hot right now")
    form.get_by_label("Share with all staff").check()
    form.get_by_role("button", name="Save").click()

    link = sidebar.get_by_role("link", name="Hot right now")
    expect(link).to_have_accessible_name(f"Shared Hot right now {len(high)} open")
    expect(link).to_have_attribute("aria-current", "page")
    saved = agent.get("/saved-views").json()
    assert [(v["name"], v["shared"], v["sort"]) for v in saved] == [
        ("Hot right now", True, "-updated")
    ]
    assert saved[0]["filters"]["status"] == ["open", "in_progress", "waiting"]
    assert saved[0]["filters"]["priority"] == ["high"]
    assert_accessible(page)

    assert agent.delete(f"/tickets/{high[0]}/close").status_code == 200
    page.get_by_role("navigation", name="Triage views").get_by_role("link", name="Resolved").click()
    expect(sidebar.get_by_role("link", name="Hot right now")).to_have_accessible_name(
        f"Shared Hot right now {len(high) - 1} open"
    )
    sidebar.get_by_role("link", name="Hot right now").click()
    expect(page).to_have_url("/triage/open?priority=high&sort=-updated")


def test_a_view_keeps_its_team_sla_and_custom_field_filters(
    new_page: Callable[..., Page], cast: Cast, api: Callable[[Login], httpx.Client]
) -> None:
    admin, agent = api(cast.admin), api(cast.agent)
    me = agent.get("/me").json()["id"]
    team = admin.post("/teams", json={"name": "Billing", "member_ids": [me]}).json()
    field = {"key": "severity", "label": "Severity", "type": "select"}
    made = admin.post("/custom-fields", json={**field, "options": ["minor", "major"]})
    assert made.status_code == 201, made.text
    address = f"/triage/open?team={team['id']}&cf.severity=major&sla=at_risk&sla=breached"

    page = new_page()
    sign_in(page, cast.agent)
    page.goto(address)
    sidebar = page.get_by_role("complementary", name="Saved views sidebar")
    sidebar.get_by_role("button", name="Save view").click()
    form = sidebar.get_by_role("form", name="Save this view")
    form.get_by_label("Name").fill("Billing at risk")
    form.get_by_role("button", name="Save").click()

    link = sidebar.get_by_role("link", name="Billing at risk")
    expect(link).to_have_attribute("aria-current", "page")
    [saved] = agent.get("/saved-views").json()
    assert saved["filters"]["team"] == team["id"]
    assert saved["filters"]["sla"] == ["at_risk", "breached"]
    assert saved["filters"]["custom_fields"] == {"severity": ["major"]}

    page.get_by_role("navigation", name="Triage views").get_by_role("link", name="Resolved").click()
    expect(link).not_to_have_attribute("aria-current", "page")
    link.click()
    expect(page).to_have_url(address)
    expect(link).to_have_attribute("aria-current", "page")
