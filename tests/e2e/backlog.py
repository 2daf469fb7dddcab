"""A believable help desk, made through the API: labels, submitters and their tickets.

The stories run against it so that screens and screenshots look like a product in use,
and so that each story has to find its own ticket among others.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from tests.e2e.conftest import Cast, Login
    from ticketdesk.users.schemas import Role

LABELS = (
    ("billing", "#16a34a", "Invoices, plans and payments"),
    ("auth", "#dc2626", "Sign-in, passwords, two-factor"),
    ("reports", "#2563eb", "Dashboards and exports"),
    ("ui", "#9333ea", "Look and feel"),
    ("integrations", "#ea580c", "Webhooks, Slack, API"),
)

ENVIRONMENT = {
    "app_version": "2.14.1",
    "browser": "Firefox 128",
    "os": "Windows 11",
    "language": "en-GB",
}


@dataclass(frozen=True)
class Planned:
    """One ticket of the backlog and how far the team got with it."""

    submitter: str
    type: str
    priority: str
    title: str
    description: str
    tags: tuple[str, ...] = ()
    status: str = "open"
    assignee: str | None = None
    replies: tuple[str, ...] = ()


PLANNED = (
    Planned(
        "katherine",
        "feature",
        "low",
        "Can we get an API to bulk-import contacts?",
        "We migrate from a spreadsheet with about **4,000 contacts**. An endpoint that "
        "accepts CSV or JSON would save us days of copy and paste.",
        ("integrations",),
        status="closed",
        assignee="margaret",
        replies=("The contacts import API shipped in 2.14 — see *Settings → Import*.",),
    ),
    Planned(
        "alan",
        "bug",
        "high",
        "Two-factor login loops back to the sign-in page on Safari",
        "After entering the six-digit code, Safari 17 returns to the sign-in page "
        "instead of the dashboard. Chrome on the same Mac works.",
        ("auth",),
        status="resolved",
        assignee="grace",
        replies=("Fixed in 2.14.1: the session cookie now survives the redirect.",),
    ),
    Planned(
        "linus",
        "bug",
        "medium",
        "Webhook retries flood our Slack channel",
        "A single failed delivery posted the same message to `#support` 14 times within a minute.",
        ("integrations",),
        status="in_progress",
        assignee="margaret",
    ),
    Planned(
        "katherine",
        "support",
        "medium",
        "How do I invite teammates to my workspace?",
        "I am the owner of our workspace but cannot find where to invite the rest of "
        "the team. Is there a limit on seats?",
        status="waiting",
        assignee="grace",
        replies=("Go to *Settings → Members → Invite*. Which plan are you on?",),
    ),
    Planned(
        "alan",
        "bug",
        "high",
        "Export to CSV times out for reports over 10k rows",
        "Exporting the *Monthly activity* report fails after 30 seconds with a "
        "gateway timeout once it has more than ~10,000 rows.\n\n"
        "1. Open **Reports → Monthly activity**\n2. Pick last quarter\n3. Click **Export**",
        ("reports",),
        status="in_progress",
        assignee="grace",
        replies=("Reproduced with 12k rows; the export query scans the whole table.",),
    ),
    Planned(
        "linus",
        "feature",
        "low",
        "Dark mode for the customer dashboard",
        "Our support team works night shifts; a dark theme for the dashboard would be "
        "much easier on the eyes.",
        ("ui",),
    ),
    Planned(
        "katherine",
        "bug",
        "high",
        "Invoice PDF shows the wrong VAT rate for Germany",
        "Invoices for customers in Germany show **16 %** VAT; the rate has been 19 % "
        "since January 2021.",
        ("billing",),
    ),
    Planned(
        "linus",
        "feature",
        "medium",
        "Add keyboard shortcuts to the ticket editor",
        "Ctrl+B for bold and Ctrl+K for links would make writing long replies faster.",
        ("ui",),
    ),
    Planned(
        "alan",
        "bug",
        "critical",
        "Password reset email never arrives",
        "Since this morning nobody on our team receives the password reset email — "
        "not in spam either. Three people are locked out.",
        ("auth",),
    ),
)

# The staff steps that take a new ticket to each status.
STATUS_PATH = {
    "open": (),
    "in_progress": ("in_progress",),
    "waiting": ("in_progress", "waiting"),
    "resolved": ("in_progress", "resolved"),
    "closed": ("in_progress", "resolved", "closed"),
}


@dataclass(frozen=True)
class Backlog:
    """What was made, by title."""

    tickets: dict[str, dict[str, Any]]
    submitters: "dict[str, Login]"


def seed_backlog(
    api: "Callable[[Login], httpx.Client]",
    cast: "Cast",
    new_person: "Callable[[str, str, Role], Login]",
) -> Backlog:
    """Labels, a second agent, two more submitters and nine tickets in every status."""
    admin, agent = api(cast.admin), api(cast.agent)
    for name, color, description in LABELS:
        admin.post(
            "/labels", json={"name": name, "color": color, "description": description}
        ).raise_for_status()
    submitters = {
        "alan": cast.user,
        "katherine": new_person("katherine@example.com", "Katherine Johnson", "user"),
        "linus": new_person("linus@example.com", "Linus Pauling", "user"),
    }
    margaret = new_person("margaret@example.com", "Margaret Hamilton", "agent")
    owners = {"grace": cast.agent.id, "margaret": margaret.id}
    tickets: dict[str, dict[str, Any]] = {}
    for plan in PLANNED:
        response = api(submitters[plan.submitter]).post(
            "/tickets",
            json={
                "type": plan.type,
                "priority": plan.priority,
                "title": plan.title,
                "description": plan.description,
                "metadata": {"environment": ENVIRONMENT},
            },
        )
        response.raise_for_status()
        ticket_id = response.json()["id"]
        if plan.tags:
            agent.put(f"/tickets/{ticket_id}", json={"tags": list(plan.tags)}).raise_for_status()
        if plan.assignee:
            agent.put(
                f"/tickets/{ticket_id}/assign", json={"assignee_id": owners[plan.assignee]}
            ).raise_for_status()
        for reply in plan.replies:
            agent.post(
                f"/tickets/{ticket_id}/comments", json={"comment": reply, "is_internal": False}
            ).raise_for_status()
        for status in STATUS_PATH[plan.status]:
            agent.put(f"/tickets/{ticket_id}", json={"status": status}).raise_for_status()
        tickets[plan.title] = agent.get(f"/tickets/{ticket_id}").json()
    return Backlog(tickets=tickets, submitters=submitters)
