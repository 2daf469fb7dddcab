"""SLA policies: an admin sets targets in business hours; agents see time left in triage."""

import re
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.backlog import Backlog
from tests.e2e.conftest import Cast, Login, refused, sign_in

pytestmark = pytest.mark.browser

TITLE = "Checkout times out for every customer in Europe"


def test_admin_defines_a_policy_and_an_agent_sees_time_left_in_triage(
    new_page: Callable[..., Page],
    cast: Cast,
    backlog: Backlog,
    api: Callable[[Login], httpx.Client],
    expected_console_errors: list[re.Pattern[str]],
) -> None:
    """The policy applies to a high ticket opened after it; triage counts down to its first
    response, sorts it first by SLA due time and finds it by SLA state."""
    admin = new_page()
    sign_in(admin, cast.admin)
    admin.goto("/admin/users")
    admin.get_by_role("navigation", name="Administration").get_by_role(
        "link", name="SLA policies"
    ).click()
    expect(admin.get_by_text("No SLA policies yet")).to_be_visible()

    admin.get_by_label("Name").fill("Round the clock")
    admin.get_by_label("Time zone").fill("Europe/Mars")
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        admin.get_by_label(day).fill("00:00-24:00")
    admin.get_by_label("High first response (hours)").fill("4")
    admin.get_by_label("High resolution (hours)").fill("24")
    expected_console_errors.append(refused(422, "/sla-policies"))
    admin.get_by_role("button", name="Create policy").click()
    # A time zone that does not exist is named where it was typed; nothing is saved.
    expect(admin.get_by_label("Time zone")).to_have_attribute("aria-invalid", "true")
    expect(admin.locator("#sla-zone-error")).to_contain_text("must be an IANA time zone")
    assert api(cast.admin).get("/sla-policies").json() == []

    admin.get_by_label("Time zone").fill("Europe/Berlin")
    admin.get_by_role("button", name="Create policy").click()
    expect(
        admin.get_by_role("status").filter(has_text="Policy “Round the clock” created")
    ).to_be_visible()
    policies = admin.get_by_role("region", name="SLA policies")
    expect(policies).to_contain_text("Round the clock")
    expect(policies).to_contain_text("High: first response 4 h, resolution 24 h")

    opened = api(cast.user).post(
        "/tickets",
        json={
            "type": "bug",
            "priority": "high",
            "title": TITLE,
            "description": "Every payment in the EU region fails after 30 seconds.",
        },
    )
    assert opened.status_code == 201, opened.text
    number = opened.json()["number"]

    agent = new_page()
    sign_in(agent, cast.agent)
    agent.goto("/triage/open")
    row = agent.get_by_role("row").filter(has=agent.get_by_role("link", name=f"#{number} {TITLE}"))
    time_left = re.compile(r"^SLA: (3h [0-5]\dm|4h 00m) left$")
    expect(row.get_by_role("cell", name=time_left)).to_be_visible()
    # The backlog's tickets were opened before the policy: they have none.
    older = backlog.tickets["Password reset email never arrives"]
    older_row = agent.get_by_role("row").filter(
        has=agent.get_by_role("link", name=f"#{older['number']} Password reset email never arrives")
    )
    expect(older_row.get_by_role("cell", name="No SLA")).to_be_visible()

    agent.get_by_label("Sort").select_option(label="SLA due soonest")
    expect(agent.get_by_role("row").nth(1)).to_contain_text(TITLE)
    agent.get_by_label("SLA", exact=True).select_option(label="SLA on track")
    expect(agent.get_by_role("row")).to_have_count(2)
    expect(agent.get_by_role("row").nth(1)).to_contain_text(TITLE)

    # The ticket's page says it too; its submitter sees nothing of it.
    agent.get_by_role("link", name=f"#{number} {TITLE}").click()
    expect(
        agent.get_by_role("heading", name=TITLE).locator("..").get_by_text(time_left)
    ).to_be_visible()
    submitter = new_page()
    sign_in(submitter, cast.user)
    submitter.goto(f"/tickets/{number}")
    expect(submitter.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(submitter.get_by_text(re.compile(r"^SLA:"))).to_have_count(0)
