"""Webhooks in the browser: an admin registers an endpoint, keeps its secret (shown once),
and reads its delivery log."""

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from standardwebhooks import Webhook

from tests.e2e.conftest import Cast, Login, refused, sign_in
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.browser

TICKET = {
    "type": "bug",
    "title": "The export button does nothing",
    "description": "Clicking Export on the reports page shows no file and no error.",
}


@pytest.fixture
def serve_jobs() -> bool:
    return True


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "webhooks": {"allow_private_targets": True},
        "jobs": {"poll_interval_seconds": 0.2},
    }


def test_registering_an_endpoint_and_reading_its_log(
    new_page: Callable[..., Page],
    cast: Cast,
    receiver: Receiver,
    api: Callable[[Login], httpx.Client],
) -> None:
    page = new_page()
    sign_in(page, cast.admin)
    page.goto("/admin")
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_text("No webhooks yet")).to_be_visible()

    page.get_by_label("Name").fill("Ops receiver")
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_role("button", name="Create webhook").click()
    secret = page.get_by_test_id("webhook-secret")
    expect(secret).to_contain_text("whsec_")
    shown = secret.inner_text()

    api(cast.user).post("/tickets", json=TICKET).raise_for_status()
    page.get_by_role("button", name="Deliveries").click()
    row = page.get_by_role("row").filter(has_text="ticket.created")
    expect(row).to_contain_text("succeeded", timeout=15_000)
    expect(row).to_contain_text("HTTP 200")
    [received] = receiver.received
    payload = Webhook(shown).verify(received.body, received.headers)
    assert payload["data"]["ticket"]["title"] == TICKET["title"]

    page.reload()
    expect(page.get_by_text("Ops receiver")).to_be_visible()
    expect(page.get_by_test_id("webhook-secret")).to_have_count(0)
    expect(page.get_by_text(shown)).to_have_count(0)


class TestPrivateTargetsRefused:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {}

    def test_the_url_field_says_why(
        self,
        new_page: Callable[..., Page],
        cast: Cast,
        expected_console_errors: list[re.Pattern[str]],
    ) -> None:
        expected_console_errors.append(refused(422, "/api/v1/webhooks"))
        page = new_page()
        sign_in(page, cast.admin)
        page.goto("/admin/webhooks")
        page.get_by_label("Name").fill("Metadata")
        page.get_by_label("URL").fill("http://169.254.169.254/latest/meta-data")
        page.get_by_role("button", name="Create webhook").click()
        expect(page.get_by_text("not on the public internet")).to_be_visible()
