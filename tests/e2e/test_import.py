"""Importing tickets in the browser: an admin uploads a CSV file, maps its columns, reads
the dry run's errors, fixes the mapping and imports every row."""

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Cast, Login, assert_accessible, sign_in

pytestmark = pytest.mark.browser

FILE = (
    b"Ref,Subject,Body,From,Prio,Notes\n"
    b"OLD-1,Printer on floor 3 jams,Every second page jams in the printer on floor 3.,"
    b"carol@customer.example,High,call back\n"
    b"OLD-2,Invoices show the wrong VAT,The VAT on every invoice since May is 19% not 7%.,"
    b"dave@customer.example,Urgent,\n"
)


def test_mapping_dry_run_and_import(
    new_page: Callable[..., Page], cast: Cast, api: Callable[[Login], httpx.Client]
) -> None:
    page = new_page()
    sign_in(page, cast.admin)
    page.goto("/admin")
    page.get_by_role("link", name="Import").click()
    page.get_by_label("CSV file", exact=True).set_input_files(
        files=[{"name": "old-helpdesk.csv", "mimeType": "text/csv", "buffer": FILE}]
    )

    expect(
        page.get_by_role("heading", name="Map the columns of old-helpdesk.csv (2 rows)")
    ).to_be_visible()
    # Guessed from the headers; Notes is left out.
    expect(page.get_by_label("Field for column Subject")).to_have_value("title")
    expect(page.get_by_label("Field for column From")).to_have_value("submitter_email")
    expect(page.get_by_label("Field for column Notes")).to_have_value("")
    preview = page.get_by_role("table", name="Preview")
    expect(preview.get_by_role("columnheader")).to_have_text(
        ["External id", "Title", "Description", "Submitter email", "Priority"]
    )
    expect(preview).to_contain_text("Invoices show the wrong VAT")
    assert_accessible(page)

    page.get_by_role("button", name="Dry run").click()
    errors = page.get_by_role("table", name="Errors")
    expect(errors.get_by_role("row")).to_have_count(2)
    expect(errors.get_by_role("row").nth(1)).to_contain_text("2Prio")
    expect(errors).to_contain_text("'urgent' is not one of low, medium, high, critical")
    expect(page.get_by_role("button", name="Import")).to_be_disabled()
    assert api(cast.admin).get("/tickets").json()["items"] == []

    page.get_by_label("priority", exact=True).fill("Urgent = critical")
    page.get_by_role("button", name="Dry run").click()
    expect(page.get_by_text("Every row would import.")).to_be_visible()
    page.get_by_role("button", name="Import 2 tickets").click()

    expect(page.get_by_text("2 tickets created")).to_be_visible()
    imported = page.get_by_role("list", name="Imported tickets")
    expect(imported.get_by_role("listitem")).to_have_count(2)
    imported.get_by_role("link").nth(1).click()
    expect(page.get_by_role("heading", name="Invoices show the wrong VAT")).to_be_visible()
    tickets = api(cast.admin).get("/tickets").json()["items"]
    assert sorted((t["title"], t["priority"]) for t in tickets) == [
        ("Invoices show the wrong VAT", "critical"),
        ("Printer on floor 3 jams", "high"),
    ]
