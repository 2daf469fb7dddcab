"""Teams and assignment rules: an admin sets up a team and a rule; new tickets land in
the team's queue, handed out in turn."""

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.backlog import Backlog
from tests.e2e.conftest import Cast, Login, assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_a_new_ticket_lands_in_the_team_queue_by_round_robin(
    new_page: Callable[..., Page],
    cast: Cast,
    backlog: Backlog,
    api: Callable[[Login], httpx.Client],
) -> None:
    """The admin makes a team of Grace and Margaret and a rule sending support requests to
    it by round robin; two requests arrive, one for each of them, in the team's queue."""
    page = new_page()
    sign_in(page, cast.admin)
    page.goto("/admin/users")
    admin_nav = page.get_by_role("navigation", name="Administration")
    admin_nav.get_by_role("link", name="Teams").click()
    page.get_by_label("Name").fill("Billing desk")
    page.get_by_role("checkbox", name="Grace Hopper").check()
    page.get_by_role("checkbox", name="Margaret Hamilton").check()
    page.get_by_role("button", name="Create team").click()
    expect(
        page.get_by_role("status").filter(has_text="Team “Billing desk” created")
    ).to_be_visible()
    teams = page.get_by_role("region", name="Teams")
    expect(teams).to_contain_text("Grace Hopper")
    expect(teams).to_contain_text("Margaret Hamilton")
    assert_accessible(page)

    admin_nav.get_by_role("link", name="Assignment rules").click()
    # The team's option is there once the page has loaded what it shows; the form is then
    # filled, not reset by that load.
    page.get_by_label("Route to team").select_option(label="Billing desk")
    page.get_by_label("Assign", exact=True).select_option(label="Round robin within the team")
    page.get_by_role("group", name="Types").get_by_role("checkbox", name="Support").check()
    page.get_by_label("Name").fill("Support to billing")
    page.get_by_role("button", name="Create rule").click()
    rule = page.get_by_role("listitem", name="Rule 1: Support to billing")
    expect(rule).to_contain_text("When type is Support: team Billing desk, assign by round robin.")
    assert_accessible(page)

    submitter = api(cast.user)
    opened = []
    for title in ("Invoice PDF shows last month's total", "Card was charged twice this month"):
        response = submitter.post(
            "/tickets",
            json={
                "type": "support",
                "title": title,
                "description": "Please have a look: the numbers do not add up for us.",
            },
        )
        response.raise_for_status()
        opened.append(response.json())
    assert [t["team"] for t in opened] == [None, None]  # routing is staff business

    agent = new_page()
    sign_in(agent, cast.agent)
    agent.goto("/triage/unassigned")
    views = agent.get_by_role("navigation", name="Triage views")
    views.get_by_role("link", name="My team").click()
    queue = agent.get_by_role("region", name="My team tickets")
    for ticket in opened:
        expect(queue).to_contain_text(ticket["title"])
    rows = queue.get_by_role("row")
    expect(rows.filter(has_text="Invoice PDF")).to_contain_text("Billing desk")
    # One each, in turn.
    owners = [
        {
            n
            for n in ("Grace Hopper", "Margaret Hamilton")
            if n in rows.filter(has_text=t["title"]).inner_text()
        }
        for t in opened
    ]
    assert sorted(map(sorted, owners)) == [["Grace Hopper"], ["Margaret Hamilton"]]

    views.get_by_role("link", name="Billing desk").click()
    expect(agent.get_by_role("region", name="Billing desk tickets")).to_contain_text(
        "Card was charged twice this month"
    )
    agent.get_by_role("link", name="Card was charged twice this month").click()
    expect(agent.get_by_text("applied the assignment rule “Support to billing”")).to_be_visible()
    expect(agent.get_by_label("Team", exact=True)).to_have_value(_team_id(api, cast))
    assert_accessible(agent)


def _team_id(api: Callable[[Login], httpx.Client], cast: Cast) -> str:
    [team] = api(cast.agent).get("/teams").json()
    team_id: str = team["id"]
    return team_id
