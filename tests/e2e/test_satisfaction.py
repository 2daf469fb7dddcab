"""Satisfaction ratings in the browser: the submitter rates on the ticket page, and a
mailed link lands on the rating page, which records the choice and takes a comment."""

import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Cast, Login, refused, sign_in
from tests.mailservers import SmtpServer

pytestmark = pytest.mark.browser

TICKET = {
    "type": "support",
    "title": "The invoice PDF is empty",
    "description": "Downloading last month's invoice gives a blank PDF file.",
}
LINK = re.compile(r"(http://\S+/rate#token=[A-Za-z0-9_-]+&rating=(good|bad))")


def _resolved_ticket(api: Callable[[Login], httpx.Client], cast: Cast) -> dict[str, Any]:
    created = api(cast.user).post("/tickets", json=TICKET)
    assert created.status_code == 201, created.text
    ticket: dict[str, Any] = created.json()
    resolved = api(cast.agent).put(f"/tickets/{ticket['id']}", json={"status": "resolved"})
    assert resolved.status_code == 200, resolved.text
    return ticket


def test_the_submitter_rates_on_the_ticket_page_and_staff_see_it(
    new_page: Callable[..., Page], cast: Cast, api: Callable[[Login], httpx.Client]
) -> None:
    ticket = _resolved_ticket(api, cast)
    page = new_page()
    sign_in(page, cast.user)
    page.goto(f"/tickets/{ticket['number']}")

    rating = page.get_by_role("region", name="Satisfaction")
    expect(rating.get_by_text("How did we do with this ticket?")).to_be_visible()
    rating.get_by_label("Comment (optional)").fill("Fixed within the hour.")
    rating.get_by_role("button", name="Good").click()
    expect(rating.get_by_test_id("csat-rating")).to_contain_text("You rated this good")
    expect(rating.get_by_text("Fixed within the hour.")).to_be_visible()

    rating.get_by_role("button", name="Change rating").click()
    rating.get_by_role("button", name="Bad").click()
    expect(rating.get_by_test_id("csat-rating")).to_contain_text("You rated this bad")
    page.reload()
    expect(
        page.get_by_role("region", name="Satisfaction").get_by_test_id("csat-rating")
    ).to_contain_text("bad")

    staff = new_page()
    sign_in(staff, cast.agent)
    staff.goto(f"/tickets/{ticket['number']}")
    seen = staff.get_by_role("region", name="Satisfaction")
    expect(seen.get_by_test_id("csat-rating")).to_contain_text("Alan Turing rated this bad")
    expect(seen.get_by_text("Fixed within the hour.")).to_be_visible()
    expect(seen.get_by_role("button", name="Good")).to_have_count(0)
    expect(staff.get_by_text("changed the rating from good to bad")).to_be_visible()


class TestMailLink:
    @pytest.fixture
    def settings_overrides(self, smtp_server: SmtpServer, live_port: int) -> dict[str, Any]:
        """Mail on, short bursts, links that lead to the live server."""
        return {
            "smtp_url": smtp_server.url,
            "base_url": f"http://127.0.0.1:{live_port}",
            "notifications": {"burst_seconds": 0.2},
        }

    @pytest.fixture
    def serve_jobs(self) -> bool:
        """The mail is sent by jobs."""
        return True

    def _links(self, smtp_server: SmtpServer, cast: Cast) -> dict[str, str]:
        """The rating links mailed to the submitter, waiting for the resolution mail."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for mail in list(smtp_server.messages):
                text = mail.get_body(preferencelist=("plain",))
                if text is None or cast.user.email not in mail["To"]:
                    continue
                found = {choice: url for url, choice in LINK.findall(text.get_content())}  # type: ignore[attr-defined]
                if found:
                    return found
            time.sleep(0.1)
        raise AssertionError("no rating links were mailed")

    def test_a_mailed_link_records_the_rating_and_takes_a_comment(
        self,
        new_page: Callable[..., Page],
        cast: Cast,
        api: Callable[[Login], httpx.Client],
        smtp_server: SmtpServer,
        expected_console_errors: list[re.Pattern[str]],
    ) -> None:
        ticket = _resolved_ticket(api, cast)
        links = self._links(smtp_server, cast)
        page = new_page()

        page.goto(links["bad"])
        expect(page.get_by_role("heading", name="Thank you for your rating")).to_be_visible()
        expect(page.get_by_test_id("recorded-rating")).to_contain_text("You rated this ticket bad")
        # The secret leaves the address bar.
        expect(page).to_have_url(re.compile(r"/rate$"))
        page.get_by_label("Anything to add? (optional)").fill("Took three days.")
        page.get_by_role("button", name="Send comment").click()
        expect(page.get_by_text("Your comment was saved.")).to_be_visible()
        detail = api(cast.agent).get(f"/tickets/{ticket['id']}").json()
        assert (detail["csat"]["rating"], detail["csat"]["comment"]) == ("bad", "Took three days.")

        expected_console_errors.append(refused(409, "/ratings/link"))
        again = new_page()
        again.goto(links["good"])
        expect(again.get_by_role("heading", name="This link was used already")).to_be_visible()
        assert api(cast.agent).get(f"/tickets/{ticket['id']}").json()["csat"]["rating"] == "bad"

    def test_a_forged_link_gets_a_clear_page(
        self,
        new_page: Callable[..., Page],
        cast: Cast,
        expected_console_errors: list[re.Pattern[str]],
    ) -> None:
        expected_console_errors.append(refused(404, "/ratings/link"))
        page = new_page()

        page.goto("/rate#token=" + "a" * 75 + "&rating=good")

        expect(page.get_by_role("heading", name="Your rating was not recorded")).to_be_visible()
        expect(page.get_by_role("alert")).to_contain_text("This rating link is not valid")
