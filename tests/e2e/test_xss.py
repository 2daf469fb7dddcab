"""Script in a title, a description or a comment is shown or dropped, never run."""

import re
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.e2e.conftest import Cast, Login, sign_in

pytestmark = pytest.mark.browser

IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=1</script>"
ALERT = "<svg onload=alert(document.domain)></svg>"
LINK = '<a href="javascript:window.__xss=1">open the report</a>'
TITLE = f"Preview breaks {IMG} {SCRIPT}"
DESCRIPTION = (
    f"Pasting this into the editor: {IMG} {SCRIPT} {ALERT}\n\n{LINK}\n\nThe same as code: `{IMG}`\n"
)
USER_COMMENT = f"Still happens {SCRIPT} {IMG}, see `{SCRIPT}`"
AGENT_COMMENT = f"Cannot reproduce {ALERT} {IMG}"


# The Markdown sanitiser parses each payload in an inert document, where nothing runs;
# Chromium still reports every inline handler in it that the page's CSP would refuse.
HANDLER_REFUSED = re.compile(r"^Executing inline event handler violates .*Content Security Policy")


def assert_nothing_ran(page: Page, dialogs: list[Dialog]) -> None:
    """No payload ran: no flag set, no dialog, no live handler or script in the page."""
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert dialogs == []
    assert page.locator("main script, [onerror], [onload]").count() == 0


def open_as(new_page: Callable[..., Page], login: Login) -> tuple[Page, list[Dialog]]:
    """A signed-in page that records every dialog a payload might open."""
    page = new_page()
    dialogs: list[Dialog] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    sign_in(page, login)
    return page, dialogs


def test_payloads_are_shown_not_run(
    new_page: Callable[..., Page],
    cast: Cast,
    api: Callable[[Login], httpx.Client],
    expected_console_errors: list[re.Pattern[str]],
) -> None:
    """The ticket page, the lists and the board, for the submitter and for an agent."""
    expected_console_errors.append(HANDLER_REFUSED)
    created = api(cast.user).post(
        "/tickets", json={"type": "bug", "title": TITLE, "description": DESCRIPTION}
    )
    created.raise_for_status()
    ticket = created.json()
    for login, body in ((cast.user, USER_COMMENT), (cast.agent, AGENT_COMMENT)):
        api(login).post(
            f"/tickets/{ticket['id']}/comments", json={"comment": body, "is_internal": False}
        ).raise_for_status()
    name = f"#{ticket['number']} {TITLE}"

    for login, lists in (
        (cast.user, ("/tickets",)),
        (cast.agent, ("/triage/unassigned", "/board")),
    ):
        page, dialogs = open_as(new_page, login)
        for path in lists:
            page.goto(path)
            expect(page.get_by_role("link", name=name)).to_be_visible()
            assert_nothing_ran(page, dialogs)

        page.goto(f"/tickets/{ticket['number']}")
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        description = page.get_by_role("article", name="Description")
        expect(description.locator("code")).to_have_text(IMG)
        comments = page.get_by_role("article", name="Comment by")
        expect(comments).to_have_count(2)
        expect(comments.first.locator("code")).to_have_text(SCRIPT)
        description.get_by_text("open the report").click()
        assert_nothing_ran(page, dialogs)
        assert page.title().startswith(name)

        # A search's snippets are HTML put in the page as they are: the markup they quote
        # (ALERT outlives ts_headline, which drops most tags) is shown as text.
        page.goto(f"{lists[0]}?q=pasting")
        row = (
            page.get_by_role("main")
            .locator("li, tr")
            .filter(has=page.get_by_role("link", name=name))
        )
        expect(row.locator("mark")).to_have_text(["Pasting"])
        expect(row.get_by_text(ALERT.removesuffix("</svg>"))).to_be_visible()
        assert_nothing_ran(page, dialogs)
