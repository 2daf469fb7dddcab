"""Demo data: a small team, a few customers and about fifty tickets to look around in."""

import random
from dataclasses import dataclass
from datetime import timedelta

from ticketdesk.auth.service import Actor
from ticketdesk.canned import service as canned
from ticketdesk.canned.schemas import CannedReplyCreate
from ticketdesk.comments import service as comments
from ticketdesk.db import Connection
from ticketdesk.errors import NotFound
from ticketdesk.fields import service as fields
from ticketdesk.fields.schemas import CustomFieldCreate
from ticketdesk.labels import service as labels
from ticketdesk.labels.schemas import LabelCreate
from ticketdesk.routing import service as routing
from ticketdesk.routing.schemas import RuleActions, RuleConditions, RuleCreate
from ticketdesk.saved_views import service as saved_views
from ticketdesk.saved_views.schemas import SavedViewCreate, ViewFilters
from ticketdesk.sla import service as sla
from ticketdesk.sla.schemas import (
    BusinessCalendar,
    BusinessHours,
    BusinessWeek,
    SlaPolicyWrite,
    SlaTarget,
)
from ticketdesk.teams import service as teams
from ticketdesk.teams.schemas import TeamCreate
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.access import get_visible_ticket
from ticketdesk.tickets.schemas import TicketCreate, TicketUpdate
from ticketdesk.users import service as users
from ticketdesk.users.schemas import Role


@dataclass(frozen=True)
class DemoLogin:
    """An account the demo creates, printed at start-up."""

    email: str
    password: str
    role: Role
    name: str


LOGINS = (
    DemoLogin("admin@example.com", "admin-password", "admin", "Ada Admin"),
    DemoLogin("agent@example.com", "agent-password", "agent", "Grace Agent"),
    DemoLogin("agent2@example.com", "agent-password", "agent", "Linus Agent"),
    DemoLogin("user@example.com", "user-password", "user", "Alan User"),
    DemoLogin("user2@example.com", "user-password", "user", "Barbara User"),
    DemoLogin("user3@example.com", "user-password", "user", "Edsger User"),
)

LABELS = (
    LabelCreate(name="ui", color="#3b82f6", description="Screens, layout, styling"),
    LabelCreate(name="api", color="#8b5cf6", description="REST API and integrations"),
    LabelCreate(name="billing", color="#f59e0b", description="Invoices and payments"),
    LabelCreate(name="performance", color="#ef4444", description="Slow pages and timeouts"),
    LabelCreate(name="docs", color="#10b981", description="Documentation"),
    LabelCreate(name="mobile", color="#ec4899", description="Phones and tablets"),
)

# A custom field of bugs, and the severity each demo bug gets in turn.
SEVERITY = CustomFieldCreate(
    key="severity",
    label="Severity",
    type="select",
    options=["minor", "major", "critical"],
    ticket_types=["bug"],
)
SEVERITIES = ("major", "minor", "critical", "minor")

# Business hours, Monday to Friday, 09:00 to 17:00 UTC: the demo's tickets show the time
# left to answer and resolve them in triage.
_OFFICE_HOURS = [BusinessHours(start="09:00", end="17:00")]
SLA_POLICY = SlaPolicyWrite(
    name="Business hours",
    calendar=BusinessCalendar(
        time_zone="UTC",
        week=BusinessWeek(
            mon=_OFFICE_HOURS,
            tue=_OFFICE_HOURS,
            wed=_OFFICE_HOURS,
            thu=_OFFICE_HOURS,
            fri=_OFFICE_HOURS,
        ),
    ),
    targets=[
        SlaTarget(priority="critical", first_response_minutes=60, resolution_minutes=480),
        SlaTarget(priority="high", first_response_minutes=240, resolution_minutes=960),
        SlaTarget(priority="medium", first_response_minutes=480, resolution_minutes=2400),
        SlaTarget(priority="low", first_response_minutes=960, resolution_minutes=4800),
    ],
)
SUPPORT_TEAM = "Support"

SUBJECTS = (
    ("bug", "Export to CSV produces an empty file", "performance"),
    ("bug", "Login page loops back after entering the password", "ui"),
    ("bug", "Invoice PDF shows the wrong currency symbol", "billing"),
    ("bug", "Dashboard charts stay blank on Safari", "ui"),
    ("bug", "API returns 500 when the page size is zero", "api"),
    ("bug", "Search results skip the first match", "api"),
    ("bug", "Notifications arrive twice for each comment", "api"),
    ("bug", "Mobile menu cannot be closed on small screens", "mobile"),
    ("feature", "Dark mode for the reporting screens", "ui"),
    ("feature", "Webhook when an invoice is paid", "billing"),
    ("feature", "Bulk edit of customer records", "ui"),
    ("feature", "Single sign-on with SAML", "api"),
    ("feature", "Keyboard shortcuts in the editor", "ui"),
    ("feature", "Offline mode for the mobile app", "mobile"),
    ("support", "How do I move my account to another e-mail address?", "docs"),
    ("support", "Where can I download last year's invoices?", "billing"),
    ("support", "The import guide mentions a setting I cannot find", "docs"),
    ("support", "Reports take more than a minute to load", "performance"),
)

REPLIES = (
    "Thanks for the report! I can reproduce this and have passed it to the team.",
    "Could you tell us which browser and version you are using?",
    "A fix is on its way and should be out with the next release.",
    "This works as intended, but we agree the wording is confusing.",
)
CANNED_REPLIES = (
    CannedReplyCreate(
        title="Need more details",
        body="Hi {{ submitter.name }},\n\nThanks for ticket #{{ ticket.number }}. Could you "
        "tell us your browser and version, and the steps that lead to the problem?\n\n"
        "{{ agent.name }}",
        scope="shared",
        set_status="waiting",
    ),
    CannedReplyCreate(
        title="Fixed in the next release",
        body="Hi {{ submitter.name }},\n\nThe fix for “{{ ticket.title }}” ships with the "
        "next release. Thanks for your patience!\n\n{{ agent.name }}",
        scope="shared",
        set_status="resolved",
    ),
)
CUSTOMER_REPLY = "Firefox 132 on Linux. It happens every time, with or without add-ons."
NOTES = (
    "Looks like the regression from last week's deploy; checking the logs.",
    "Customer is on the enterprise plan, keep them posted daily.",
    "Duplicate of an older ticket; linking the two.",
)


async def load_demo(
    conn: Connection, *, reopen_window: timedelta, tickets_wanted: int = 50, seed: int = 7
) -> bool:
    """Fill an empty database with demo data; return False if it already had users.
    ``reopen_window`` is the setting the demo's submitters reply under."""
    if await users.any_people(conn):
        return False
    rng = random.Random(seed)
    people: dict[str, Actor] = {}
    for login in LOGINS:
        user = await users.create_user(
            conn,
            email=login.email,
            name=login.name,
            role=login.role,
            password=login.password,
            internal_domains=(),
        )
        people[login.email] = Actor(id=user.id, email=user.email, name=user.name, role=user.role)
    for new_label in LABELS:
        await labels.create_label(conn, new_label)
    await fields.create_field(conn, SEVERITY)
    submitters = [a for a in people.values() if a.role == "user"]
    staff = [a for a in people.values() if a.role != "user"]
    agents = [a for a in staff if a.role == "agent"]
    await sla.create_policy(conn, SLA_POLICY)
    support = await teams.create_team(
        conn, TeamCreate(name=SUPPORT_TEAM, member_ids=[a.id for a in agents])
    )
    await routing.create_rule(
        conn,
        RuleCreate(
            name="Support questions to the Support team",
            conditions=RuleConditions(types=["support"]),
            actions=RuleActions(team_id=support.id, round_robin=True),
        ),
    )
    for n in range(tickets_wanted):
        kind, title, label = SUBJECTS[n % len(SUBJECTS)]
        submitter = rng.choice(submitters)
        detail, _ = await tickets.create_ticket(
            conn,
            submitter,
            TicketCreate(
                type=kind,
                priority=rng.choice(["low", "medium", "medium", "high", "critical"]),
                title=title if n < len(SUBJECTS) else f"{title} (again, case {n})",
                description=(
                    f"{title}.\n\n**Steps**\n\n1. Sign in\n2. Open the page\n3. Watch it happen\n\n"
                    "Expected it to just work."
                ),
                metadata={
                    "app_version": f"2.{rng.randint(0, 9)}.{rng.randint(0, 20)}",
                    "browser": rng.choice(["Firefox 132", "Chrome 131", "Safari 18"]),
                    "os": rng.choice(["Linux", "macOS", "Windows"]),
                },
                custom_fields={"severity": SEVERITIES[n % len(SEVERITIES)]}
                if kind == "bug"
                else {},
            ),
            idempotency_key=None,
        )
        agent = rng.choice(staff)
        ref = str(detail.id)
        stage = rng.random()
        if stage < 0.25:
            continue  # left as it came in: unassigned, or a support question's rotation
        await tickets.update_ticket(
            conn, agent, ref, TicketUpdate(tags=[label]), if_match=None, reopen_window=reopen_window
        )
        await tickets.assign_ticket(conn, agent, ref, rng.choice(agents).id, if_match=None)
        ticket = await get_visible_ticket(conn, agent, ref)
        await comments.add_comment(
            conn,
            agent,
            ticket,
            rng.choice(REPLIES),
            is_internal=False,
            reopen_window=reopen_window,
        )
        if rng.random() < 0.5:
            await comments.add_comment(
                conn,
                agent,
                ticket,
                rng.choice(NOTES),
                is_internal=True,
                reopen_window=reopen_window,
            )
        for status in _path(stage):
            await tickets.update_ticket(
                conn,
                agent,
                ref,
                TicketUpdate(status=status),
                if_match=None,
                reopen_window=reopen_window,
            )
        if _path(stage)[-1] == "waiting" and n % 2 == 0:
            # Some customers have answered: their tickets are back with the team, marked.
            ticket = await get_visible_ticket(conn, submitter, ref, for_update=True)
            await comments.add_comment(
                conn,
                submitter,
                ticket,
                CUSTOMER_REPLY,
                is_internal=False,
                reopen_window=reopen_window,
            )
        if stage > 0.9:
            await tickets.close_ticket(conn, submitter, ref, if_match=None)
    admin = people[LOGINS[0].email]
    for reply in CANNED_REPLIES:
        await canned.create_reply(conn, admin, reply)
    await saved_views.create_view(
        conn,
        people[LOGINS[1].email],
        SavedViewCreate(
            name="Urgent", shared=True, filters=ViewFilters(priority=["high", "critical"])
        ),
    )
    return True


async def demo_accounts_exist(conn: Connection) -> bool:
    """Whether the demo's admin account is in this database (so its logins work)."""
    try:
        await users.get_user_by_email(conn, LOGINS[0].email)
    except NotFound:
        return False
    return True


def _path(stage: float) -> list[str]:
    """Statuses a demo ticket walks through, by how far along it is."""
    if stage < 0.5:
        return ["in_progress"]
    if stage < 0.65:
        return ["in_progress", "waiting"]
    return ["in_progress", "resolved"]
