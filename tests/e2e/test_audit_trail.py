"""The audit trail page: what admins did, searched and exported."""

import csv
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Cast, Login, screenshot, sign_in

pytestmark = pytest.mark.browser


def test_admin_reads_searches_and_exports_the_trail(
    new_page: Callable[..., Page],
    cast: Cast,
    api: Callable[[Login], httpx.Client],
    tmp_path: Path,
) -> None:
    """Each action is listed with what it changed; a search narrows the list; the export
    holds what the list shows."""
    admin = api(cast.admin)
    label = admin.post("/labels", json={"name": "billing"}).json()
    admin.patch(f"/labels/{label['id']}", json={"name": "invoices"}).raise_for_status()
    admin.post(
        "/webhooks",
        json={"name": "Pager", "url": "https://93.184.215.14/hook", "events": ["ticket.created"]},
    ).raise_for_status()

    page = new_page()
    sign_in(page, cast.admin)
    page.goto("/admin/users")
    page.get_by_role("navigation", name="Administration").get_by_role(
        "link", name="Audit trail"
    ).click()

    entries = page.get_by_role("list", name="Audit entries").get_by_role("listitem")
    expect(entries).to_have_count(3)
    expect(entries.first).to_contain_text("webhook.created")
    expect(entries.first).to_contain_text("[redacted]")
    renamed = entries.filter(has_text="label.updated")
    expect(renamed.get_by_role("row", name="name billing invoices")).to_be_visible()
    expect(renamed).to_contain_text(f"by {cast.admin.name}")
    screenshot(page, "admin-audit")

    page.get_by_label("Action").fill("label.")
    page.get_by_role("button", name="Search").click()
    expect(entries).to_have_count(2)
    expect(entries.filter(has_text="webhook.created")).to_have_count(0)

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    saved = tmp_path / "audit.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(saved.open(encoding="utf-8")))
    assert [row["action"] for row in rows] == ["label.updated", "label.created"]
    assert {row["actor_email"] for row in rows} == {cast.admin.email}
