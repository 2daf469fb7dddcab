"""An agent exports the open tickets with their comments and downloads the file."""

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Cast, Login, assert_accessible, screenshot, sign_in

pytestmark = pytest.mark.browser

NOTE = "Internal: the customer is on the legacy billing plan, ref LGC-4411."


@pytest.fixture
def serve_jobs() -> bool:
    """The export is written by the server's own worker."""
    return True


def test_agent_exports_and_downloads(
    new_page: Callable[..., Page],
    cast: Cast,
    api: Callable[[Login], httpx.Client],
    tmp_path: Path,
) -> None:
    user, agent = api(cast.user), api(cast.agent)
    titles = ["Invoices are emailed twice", "Search ignores accents", "Logo is blurry on retina"]
    tickets = []
    for title in titles:
        made = user.post(
            "/tickets",
            json={
                "type": "bug",
                "title": title,
                "description": "Steps to reproduce are in the attached notes below.",
            },
        )
        assert made.status_code == 201, made.text
        tickets.append(made.json())
    assert agent.put(f"/tickets/{tickets[2]['id']}", json={"status": "waiting"}).status_code == 200
    for text, internal in (("We are looking into it.", False), (NOTE, True)):
        posted = agent.post(
            f"/tickets/{tickets[0]['id']}/comments", json={"comment": text, "is_internal": internal}
        )
        assert posted.status_code == 201, posted.text

    page = new_page()
    sign_in(page, cast.agent)
    page.get_by_role("button", name="account menu").click()
    page.get_by_role("menuitem", name="Exports").click()
    expect(page.get_by_role("heading", name="Exports", level=1)).to_be_visible()
    # Agents are not offered internal notes.
    expect(page.get_by_label("Internal notes")).to_have_count(0)
    page.get_by_label("Comments").check()
    page.get_by_label("Open", exact=True).check()
    page.get_by_role("button", name="Start export").click()

    download_link = page.get_by_role("link", name="Download")
    expect(download_link).to_be_visible(timeout=30_000)
    expect(page.get_by_text("2 tickets ·")).to_be_visible()
    screenshot(page, "exports")
    assert_accessible(page)
    with page.expect_download() as started:
        download_link.click()
    saved = tmp_path / "export.csv"
    started.value.save_as(saved)

    assert started.value.suggested_filename.startswith("tickets-")
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"), newline="")))
    assert [r["title"] for r in rows] == titles[:2]
    assert [c["body"] for c in json.loads(rows[0]["comments"])] == ["We are looking into it."]
    assert "LGC-4411" not in saved.read_text(encoding="utf-8")
