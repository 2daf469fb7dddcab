"""The Reports page: charts with their figures in tables, on a phone and in dark mode."""

import re
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Cast, Login, assert_accessible, screenshot, sign_in

pytestmark = pytest.mark.browser


def test_an_agent_reads_todays_figures_on_a_phone_in_dark_mode(
    new_page: Callable[..., Page],
    cast: Cast,
    api: Callable[[Login], httpx.Client],
) -> None:
    """Three tickets opened today, one resolved: the volume chart's table says so, and split
    by type it says which; the page stays 390 px wide and dark."""
    ids = []
    for kind in ("bug", "bug", "feature"):
        opened = api(cast.user).post(
            "/tickets",
            json={
                "type": kind,
                "priority": "medium",
                "title": f"A {kind} to count",
                "description": "Counted in today's report.",
            },
        )
        assert opened.status_code == 201, opened.text
        ids.append(opened.json()["id"])
    api(cast.agent).put(f"/tickets/{ids[0]}", json={"status": "resolved"}).raise_for_status()
    today = datetime.now(UTC).date().isoformat()

    page = new_page(width=390, height=844, dark=True)
    sign_in(page, cast.agent)
    page.goto("/reports")
    volume = page.get_by_role("region", name="Tickets created and resolved")
    expect(volume.get_by_role("img", name="Tickets created and resolved: chart")).to_be_visible()
    row = volume.get_by_role("row", name=today)
    expect(row.get_by_role("cell")).to_have_text(["3", "1"])
    backlog = page.get_by_role("region", name="Backlog (open at the end of each period)")
    expect(backlog.get_by_role("row", name=today).get_by_role("cell")).to_have_text(["2"])
    # The chart is drawn: its canvas has pixels painted.
    painted = volume.locator("canvas").evaluate(
        "c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v !== 0)"
    )
    assert painted
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "reports-phone-dark")

    # The rest at a desktop's width (the signed-in shell's home link has no name at a
    # phone's, which axe reports whatever the page).
    page.set_viewport_size({"width": 1280, "height": 860})
    page.get_by_label("Split by").select_option("type")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"split_by=type"))
    header = volume.get_by_role("row").first
    expect(header.get_by_role("columnheader")).to_have_text(["Period", "bug", "feature"])
    expect(volume.get_by_role("row", name=today).get_by_role("cell")).to_have_text(["2", "1"])
    assert_accessible(page)
