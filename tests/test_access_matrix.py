"""Who may call what: every API route, for every kind of caller.

Each row of ``ROUTES`` names a route and the status each caller gets:

    anonymous   no credentials
    owner       Alice, a submitter, whose ticket the route is about
    other       Bob, a submitter who does not own that ticket (a 404, never a 403)
    agent       staff
    admin       staff who also manage users and labels

Every response a non-staff caller receives is scanned for the text and ids of an
internal note on the ticket: they must appear in none of them.

Adding a route? Add a row to ``ROUTES`` (``test_every_route_is_in_the_matrix`` fails
until you do); if it needs an object of its own, make it in ``make_world`` and name it
in ``World.ids`` under the path parameter's name.
"""

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from tests.factories import PASSWORD, Accounts, create_ticket, make_user, signed_in
from ticketdesk.auth import service as auth
from ticketdesk.canned import service as canned
from ticketdesk.canned.schemas import CannedReplyCreate
from ticketdesk.comments import service as comments
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.exports import service as exports
from ticketdesk.exports.schemas import ExportCreate
from ticketdesk.fields import service as fields
from ticketdesk.fields.schemas import CustomFieldCreate
from ticketdesk.imports import csv_files
from ticketdesk.labels import service as labels
from ticketdesk.labels.schemas import LabelCreate
from ticketdesk.routing import service as routing
from ticketdesk.routing.schemas import RuleActions, RuleCreate
from ticketdesk.saved_views import service as saved_views
from ticketdesk.saved_views.schemas import SavedViewCreate
from ticketdesk.sla import service as sla
from ticketdesk.sla.schemas import SlaPolicyWrite
from ticketdesk.teams import service as teams
from ticketdesk.teams.schemas import TeamCreate
from ticketdesk.tickets import followers
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.schemas import TicketUpdate

WINDOW = Settings().reopen_window

ROLES = ("anonymous", "owner", "other", "agent", "admin")
SUBMITTER_ROLES = ("anonymous", "owner", "other")
NOTE = "Internal: the customer's card was flagged by fraud check FRD-55821."
IMPORT_CSV = (
    b"Subject,Body,From\n"
    b"Printer on floor 3 jams,Every second page jams in the printer on floor 3.,"
    b"importer@example.com\n"
)
IMPORT_MAPPING = {"columns": {"Subject": "title", "Body": "description", "From": "submitter_email"}}


@dataclass
class World:
    """What the routes act on, made afresh for each caller so no call sees another's."""

    accounts: Accounts
    ids: dict[str, str]  # path parameter → value
    note_id: str
    internal_event_ids: list[str]

    @property
    def secrets(self) -> list[str]:
        """What no submitter may ever receive: the note's words and ids."""
        return [NOTE, "FRD-55821", self.note_id, *self.internal_event_ids]

    def url(self, path: str) -> str:
        """The route's path with its parameters filled in."""
        return path.format(**self.ids)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """GitHub switched on, so its routes get past "not enabled" to the access checks."""
    github = {"enabled": True, "repo": "acme/widgets", "token": "ghp_matrix_token"}
    return {"tickets": {"github": github}}


def _policy_body() -> dict[str, Any]:
    return {
        "name": f"policy-{uuid.uuid4().hex[:8]}",
        "calendar": {
            "time_zone": "Europe/Berlin",
            "week": {"mon": [{"start": "09:00", "end": "17:00"}]},
        },
        "targets": [{"priority": "low", "first_response_minutes": 600}],
    }


async def make_world(app: FastAPI, accounts: Accounts, conn: Connection) -> World:
    """Alice's ticket with a public reply, an internal note and a file; one of everything else."""
    ticket = await create_ticket(conn, accounts.alice)
    # A token of its own: a route called before (a password change) may revoke Alice's.
    async with signed_in(app, conn, accounts.alice.user) as alice:
        upload = await alice.post(
            f"/api/v1/tickets/{ticket.id}/attachments",
            files={"files": ("steps.txt", b"1. open reports\n2. click export\n", "text/plain")},
        )
    assert upload.status_code == 201, upload.text
    async with conn.transaction():
        await comments.add_comment(
            conn,
            accounts.alice.actor,
            ticket,
            "Still broken for me.",
            is_internal=False,
            reopen_window=WINDOW,
        )
        note = await comments.add_comment(
            conn, accounts.agent.actor, ticket, NOTE, is_internal=True, reopen_window=WINDOW
        )
        label = await labels.create_label(conn, LabelCreate(name=f"label-{uuid.uuid4().hex[:8]}"))
        token = await auth.create_token(conn, accounts.alice.user.id, "matrix")
        canned_reply = await canned.create_reply(
            conn,
            accounts.admin.actor,
            CannedReplyCreate(title=_unique("shared"), body="Hello", scope="shared"),
        )
        view = await saved_views.create_view(
            conn, accounts.agent.actor, SavedViewCreate(name=_unique("view"), shared=True)
        )
        # A staff-only custom field holding the note's reference: no submitter may see it.
        field = await fields.create_field(
            conn,
            CustomFieldCreate(
                key=f"fraud_{uuid.uuid4().hex[:8]}",
                label="Fraud check",
                type="text",
                staff_only=True,
            ),
        )
        await tickets.update_ticket(
            conn,
            accounts.agent.actor,
            str(ticket.id),
            TicketUpdate(custom_fields={field.key: "FRD-55821"}),
            if_match=None,
            reopen_window=WINDOW,
        )
        policy = await sla.create_policy(conn, SlaPolicyWrite.model_validate(_policy_body()))
        team = await teams.create_team(
            conn, TeamCreate(name=_unique("team"), member_ids=[accounts.agent.user.id])
        )
        rule = await routing.create_rule(
            conn, RuleCreate(name="Matrix rule", actions=RuleActions(priority="high"))
        )
        # The agent's export, still queued: no worker runs here.
        export = await exports.create_export(
            conn, accounts.agent.actor, ExportCreate(format="csv", include_comments=True)
        )
        follower_id = await followers.add_address(
            conn, ticket.id, f"{_unique('copied')}@partner.example", via="cc"
        )
        ticket_import = await csv_files.upload(
            conn, actor_id=accounts.admin.user.id, filename="tickets.csv", data=IMPORT_CSV
        )
    target = await make_user(conn, name="Target Person")
    # Another ticket, for the world's ticket to be merged into.
    main = await create_ticket(
        conn,
        accounts.admin,
        title="Invoices are rejected by the bank",
        description="The bank says every invoice we send has a wrong IBAN.",
    )
    cur = await conn.execute(
        "select id::text from ticket_events where ticket_id = %s and is_internal", (ticket.id,)
    )
    internal_events = [row["id"] for row in await cur.fetchall()]
    return World(
        accounts=accounts,
        ids={
            "id": str(ticket.id),
            "label_id": str(label.id),
            "canned_reply_id": str(canned_reply.id),
            "view_id": str(view.id),
            "field_id": str(field.id),
            "policy_id": str(policy.id),
            "team_id": str(team.id),
            "rule_id": str(rule.id),
            "user_id": str(target.id),
            "token_id": str(token.id),
            "attachment_id": upload.json()[0]["id"],
            # No such job: an admin gets past the gate to a 404. Not "1": the export
            # above queues a job, and the job ids start again at 1 for each test.
            "job_id": "999999999",
            "inbound_id": "1",  # no such inbound mail either
            "mail_id": "00000000-0000-0000-0000-000000000001",  # no such mail, likewise
            "webhook_id": "00000000-0000-0000-0000-000000000002",  # no such webhook
            "delivery_id": "00000000-0000-0000-0000-000000000003",  # nor delivery
            "follower_id": str(follower_id),
            "export_id": str(export.id),
            "import_id": str(ticket_import.id),
            "main": str(main.number),
        },
        note_id=str(note.id),
        internal_event_ids=internal_events,
    )


Body = Callable[[World], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    """One row of the matrix: a request and the status each caller gets."""

    method: str
    path: str
    expect: dict[str, int]
    request: Body | None = None  # keyword arguments for client.request

    @property
    def id(self) -> str:
        """The row's name in test output."""
        return f"{self.method} {self.path}"


def statuses(anonymous: int, owner: int, other: int, agent: int, admin: int) -> dict[str, int]:
    """A row of expected statuses, in ``ROLES`` order."""
    return dict(zip(ROLES, (anonymous, owner, other, agent, admin), strict=True))


def _json(body: dict[str, Any] | Callable[[World], dict[str, Any]]) -> Body:
    return lambda world: {"json": body(world) if callable(body) else body}


def _report_range(world: World) -> dict[str, Any]:
    return {"params": {"from": "2026-01-01", "to": "2026-03-31", "split_by": "team"}}


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


EVERYONE_SIGNED_IN = statuses(401, 200, 200, 200, 200)
OWNER_AND_STAFF = statuses(401, 200, 404, 200, 200)
STAFF_ONLY = statuses(401, 403, 403, 200, 200)
# About one ticket: who may not see it gets a 404, as on every ticket route.
TICKET_STAFF = statuses(401, 403, 404, 200, 200)
ADMIN_ONLY = statuses(401, 403, 403, 403, 200)

ROUTES: list[Route] = [
    # tickets
    Route(
        "POST",
        "/api/v1/tickets",
        statuses(401, 201, 201, 201, 201),
        _json(
            {
                "type": "bug",
                "title": "Matrix ticket title",
                "description": "Long enough description text.",
            }
        ),
    ),
    # On a customer's behalf: staff only.
    Route(
        "POST",
        "/api/v1/tickets",
        statuses(401, 403, 403, 201, 201),
        _json(
            lambda w: {
                "type": "support",
                "title": "Matrix ticket for a customer",
                "description": "Opened for the customer on the phone.",
                "on_behalf_of": {"user_id": str(w.accounts.alice.user.id)},
            }
        ),
    ),
    Route("GET", "/api/v1/tickets", EVERYONE_SIGNED_IN),
    Route(
        "GET",
        "/api/v1/tickets/similar",
        EVERYONE_SIGNED_IN,
        lambda w: {"params": {"title": "The export button does nothing"}},
    ),
    Route("GET", "/api/v1/tickets/{id}", OWNER_AND_STAFF),
    Route("PUT", "/api/v1/tickets/{id}", OWNER_AND_STAFF, _json({"title": "A retitled ticket"})),
    # An open ticket: its submitter may only close it once it is resolved.
    Route("DELETE", "/api/v1/tickets/{id}/close", statuses(401, 409, 404, 200, 200)),
    Route(
        "PUT",
        "/api/v1/tickets/{id}/assign",
        statuses(401, 403, 404, 200, 200),
        _json(lambda w: {"assignee_id": str(w.accounts.agent.user.id)}),
    ),
    Route(
        "POST",
        "/api/v1/tickets/bulk",
        STAFF_ONLY,
        _json(lambda w: {"ticket_ids": [w.ids["id"]], "action": "priority", "value": "high"}),
    ),
    # conversation and timeline
    Route(
        "POST",
        "/api/v1/tickets/{id}/comments",
        statuses(401, 201, 404, 201, 201),
        _json({"comment": "A reply."}),
    ),
    Route("GET", "/api/v1/tickets/{id}/comments", OWNER_AND_STAFF),
    Route("GET", "/api/v1/tickets/{id}/events", OWNER_AND_STAFF),
    # followers and mentions
    Route("PUT", "/api/v1/tickets/{id}/follow", OWNER_AND_STAFF),
    Route("DELETE", "/api/v1/tickets/{id}/follow", OWNER_AND_STAFF),
    Route(
        "DELETE",
        "/api/v1/tickets/{id}/followers/{follower_id}",
        statuses(401, 403, 403, 204, 204),
    ),
    # merging (the world's ticket is merged into nothing yet: nothing to undo)
    Route(
        "POST",
        "/api/v1/tickets/{id}/merge",
        statuses(401, 403, 403, 201, 201),
        _json(lambda w: {"into": w.ids["main"]}),
    ),
    Route("DELETE", "/api/v1/tickets/{id}/merge", statuses(401, 403, 403, 409, 409)),
    # satisfaction: only the submitter rates, once the ticket is resolved (the world's
    # ticket is open: a 409 for its submitter; tests/csat rates resolved ones)
    Route(
        "PUT",
        "/api/v1/tickets/{id}/rating",
        statuses(401, 409, 404, 403, 403),
        _json({"rating": "good", "comment": "Thanks."}),
    ),
    Route("GET", "/api/v1/me/mentions", EVERYONE_SIGNED_IN),
    Route("POST", "/api/v1/me/mentions/read", statuses(401, 204, 204, 204, 204)),
    # who else of the staff is on the ticket
    Route("PUT", "/api/v1/tickets/{id}/presence", TICKET_STAFF, _json({"state": "viewing"})),
    Route("GET", "/api/v1/tickets/{id}/presence", TICKET_STAFF),
    Route("DELETE", "/api/v1/tickets/{id}/presence", statuses(401, 403, 404, 204, 204)),
    # canned replies: a shared one (admins manage it), used on the ticket by staff
    Route("GET", "/api/v1/canned-replies", STAFF_ONLY),
    Route(
        "POST",
        "/api/v1/canned-replies",
        statuses(401, 403, 403, 201, 201),
        _json(lambda w: {"title": _unique("reply"), "body": "Hi {{ submitter.name }}"}),
    ),
    Route("GET", "/api/v1/canned-replies/{canned_reply_id}", STAFF_ONLY),
    Route(
        "PATCH",
        "/api/v1/canned-replies/{canned_reply_id}",
        ADMIN_ONLY,
        _json({"title": "Renamed reply"}),
    ),
    Route("DELETE", "/api/v1/canned-replies/{canned_reply_id}", statuses(401, 403, 403, 403, 204)),
    Route("GET", "/api/v1/tickets/{id}/canned-replies/{canned_reply_id}/render", TICKET_STAFF),
    Route(
        "POST",
        "/api/v1/tickets/{id}/canned-replies/{canned_reply_id}/send",
        statuses(401, 403, 404, 201, 201),
        _json({"comment": "A reply from a canned one."}),
    ),
    # saved triage views: a shared one, saved by the agent
    Route("GET", "/api/v1/saved-views", STAFF_ONLY),
    Route(
        "POST",
        "/api/v1/saved-views",
        statuses(401, 403, 403, 201, 201),
        _json(lambda w: {"name": _unique("view"), "filters": {"priority": ["high"]}}),
    ),
    Route("GET", "/api/v1/saved-views/{view_id}", STAFF_ONLY),
    Route(
        "PATCH",
        "/api/v1/saved-views/{view_id}",
        STAFF_ONLY,
        _json(lambda w: {"name": _unique("renamed")}),
    ),
    Route("DELETE", "/api/v1/saved-views/{view_id}", statuses(401, 403, 403, 204, 204)),
    # exports: the agent's, queued (so no file to download yet)
    Route("GET", "/api/v1/exports", STAFF_ONLY),
    Route("POST", "/api/v1/exports", statuses(401, 403, 403, 201, 201), _json({"format": "csv"})),
    Route(
        "POST",
        "/api/v1/exports",
        statuses(401, 403, 403, 403, 201),
        _json({"format": "json", "include_comments": True, "include_internal_notes": True}),
    ),
    Route("GET", "/api/v1/exports/{export_id}", STAFF_ONLY),
    Route("GET", "/api/v1/exports/{export_id}/download", statuses(401, 403, 403, 409, 409)),
    Route("DELETE", "/api/v1/exports/{export_id}", statuses(401, 403, 403, 204, 204)),
    # files
    Route(
        "POST",
        "/api/v1/tickets/{id}/attachments",
        statuses(401, 201, 404, 201, 201),
        lambda _: {"files": {"files": ("more.txt", b"another log line\n", "text/plain")}},
    ),
    Route("GET", "/api/v1/tickets/{id}/attachments", OWNER_AND_STAFF),
    Route("GET", "/api/v1/tickets/{id}/attachments/{attachment_id}/download", OWNER_AND_STAFF),
    # Alice uploaded it a moment ago, so she may still take it back.
    Route(
        "DELETE",
        "/api/v1/tickets/{id}/attachments/{attachment_id}",
        statuses(401, 204, 404, 204, 204),
    ),
    # GitHub
    Route(
        "POST",
        "/api/v1/tickets/{id}/github",
        statuses(401, 403, 403, 202, 202),
        _json(lambda _: {"issue_number": uuid.uuid4().int % 1_000_000 + 1}),
    ),
    # labels
    Route("GET", "/api/v1/labels", EVERYONE_SIGNED_IN),
    Route(
        "POST",
        "/api/v1/labels",
        statuses(401, 403, 403, 403, 201),
        _json(lambda _: {"name": _unique("new")}),
    ),
    Route(
        "PATCH",
        "/api/v1/labels/{label_id}",
        ADMIN_ONLY,
        _json(lambda _: {"name": _unique("renamed")}),
    ),
    Route("DELETE", "/api/v1/labels/{label_id}", statuses(401, 403, 403, 403, 204)),
    # custom fields
    Route("GET", "/api/v1/custom-fields", EVERYONE_SIGNED_IN),
    Route(
        "POST",
        "/api/v1/custom-fields",
        statuses(401, 403, 403, 403, 201),
        _json(lambda _: {"key": _unique("new").replace("-", "_"), "label": "New", "type": "date"}),
    ),
    Route(
        "PATCH",
        "/api/v1/custom-fields/{field_id}",
        ADMIN_ONLY,
        _json({"label": "Renamed field"}),
    ),
    Route("DELETE", "/api/v1/custom-fields/{field_id}", statuses(401, 403, 403, 403, 204)),
    # SLA policies, and a ticket's clocks
    Route("GET", "/api/v1/sla-policies", STAFF_ONLY),
    Route(
        "POST",
        "/api/v1/sla-policies",
        statuses(401, 403, 403, 403, 201),
        _json(lambda _: _policy_body()),
    ),
    Route("GET", "/api/v1/sla-policies/{policy_id}", STAFF_ONLY),
    Route("PUT", "/api/v1/sla-policies/{policy_id}", ADMIN_ONLY, _json(lambda _: _policy_body())),
    Route("DELETE", "/api/v1/sla-policies/{policy_id}", statuses(401, 403, 403, 403, 204)),
    Route("GET", "/api/v1/tickets/{id}/sla", TICKET_STAFF),
    # reports
    *(
        Route("GET", f"/api/v1/reports/{report}", STAFF_ONLY, _report_range)
        for report in ("volume", "backlog", "durations", "sla", "csat")
    ),
    # teams and assignment rules
    Route("GET", "/api/v1/teams", STAFF_ONLY),
    Route(
        "POST",
        "/api/v1/teams",
        statuses(401, 403, 403, 403, 201),
        _json(lambda _: {"name": _unique("new-team")}),
    ),
    Route("GET", "/api/v1/teams/{team_id}", STAFF_ONLY),
    Route(
        "PATCH",
        "/api/v1/teams/{team_id}",
        ADMIN_ONLY,
        _json(lambda _: {"name": _unique("renamed-team")}),
    ),
    Route("DELETE", "/api/v1/teams/{team_id}", statuses(401, 403, 403, 403, 204)),
    Route("GET", "/api/v1/assignment-rules", ADMIN_ONLY),
    Route(
        "POST",
        "/api/v1/assignment-rules",
        statuses(401, 403, 403, 403, 201),
        _json({"name": "New rule", "actions": {"priority": "low"}}),
    ),
    Route(
        "PATCH",
        "/api/v1/assignment-rules/{rule_id}",
        ADMIN_ONLY,
        _json({"enabled": False}),
    ),
    Route("DELETE", "/api/v1/assignment-rules/{rule_id}", statuses(401, 403, 403, 403, 204)),
    # users
    Route("GET", "/api/v1/users", STAFF_ONLY),
    Route("GET", "/api/v1/users", STAFF_ONLY, lambda w: {"params": {"q": "alice"}}),
    Route(
        "POST",
        "/api/v1/users",
        statuses(401, 403, 403, 403, 201),
        _json(
            lambda _: {
                "email": f"{_unique('made')}@example.com",
                "name": "Made By Admin",
                "password": "a long passphrase",
                "role": "agent",
            }
        ),
    ),
    Route("PATCH", "/api/v1/users/{user_id}", ADMIN_ONLY, _json({"role": "agent"})),
    # Without mail (as here), an admin gets past the gate to "mail_disabled".
    Route(
        "POST",
        "/api/v1/users/invitations",
        statuses(401, 403, 403, 403, 409),
        _json(lambda _: {"email": f"{_unique('invited')}@example.com", "name": "Invited"}),
    ),
    Route("POST", "/api/v1/users/{user_id}/invitation", statuses(401, 403, 403, 403, 409)),
    # the caller's own account
    Route("GET", "/api/v1/me", EVERYONE_SIGNED_IN),
    Route("PATCH", "/api/v1/me", EVERYONE_SIGNED_IN, _json({"name": "A New Name"})),
    Route(
        "PUT",
        "/api/v1/me/password",
        statuses(401, 204, 204, 204, 204),
        _json({"current_password": PASSWORD, "new_password": "another long passphrase"}),
    ),
    Route("GET", "/api/v1/me/tokens", EVERYONE_SIGNED_IN),
    Route("POST", "/api/v1/me/tokens", statuses(401, 201, 201, 201, 201), _json({"name": "cli"})),
    # The token is Alice's: nobody else can even tell it exists.
    Route("DELETE", "/api/v1/me/tokens/{token_id}", statuses(401, 204, 404, 404, 404)),
    Route("POST", "/api/v1/auth/logout", statuses(401, 204, 204, 204, 204)),
    Route("POST", "/api/v1/auth/logout-everywhere", EVERYONE_SIGNED_IN),
    Route("GET", "/api/v1/me/away", STAFF_ONLY),
    Route("PUT", "/api/v1/me/away", STAFF_ONLY, _json({"away": True})),
    Route("GET", "/api/v1/me/notifications", EVERYONE_SIGNED_IN),
    Route(
        "PUT",
        "/api/v1/me/notifications",
        EVERYONE_SIGNED_IN,
        _json({"kinds": [{"kind": "reply", "enabled": False}]}),
    ),
    # administration
    Route("GET", "/api/v1/admin/jobs", ADMIN_ONLY),
    Route("POST", "/api/v1/admin/jobs/{job_id}/retry", statuses(401, 403, 403, 403, 404)),
    Route("GET", "/api/v1/admin/inbound-mail", ADMIN_ONLY),
    Route(
        "POST", "/api/v1/admin/inbound-mail/{inbound_id}/retry", statuses(401, 403, 403, 403, 404)
    ),
    Route(
        "POST", "/api/v1/admin/inbound-mail/{inbound_id}/dismiss", statuses(401, 403, 403, 403, 404)
    ),
    Route("GET", "/api/v1/admin/mail", ADMIN_ONLY),
    Route("POST", "/api/v1/admin/mail/{mail_id}/retry", statuses(401, 403, 403, 403, 404)),
    # outbound webhooks
    Route("GET", "/api/v1/webhooks", ADMIN_ONLY),
    Route(
        "POST",
        "/api/v1/webhooks",
        statuses(401, 403, 403, 403, 201),
        _json({"name": "Chat", "url": "https://93.184.215.14/hook", "events": ["ticket.created"]}),
    ),
    Route("GET", "/api/v1/webhooks/{webhook_id}", statuses(401, 403, 403, 403, 404)),
    Route(
        "PATCH",
        "/api/v1/webhooks/{webhook_id}",
        statuses(401, 403, 403, 403, 404),
        _json({"name": "Renamed"}),
    ),
    Route("DELETE", "/api/v1/webhooks/{webhook_id}", statuses(401, 403, 403, 403, 404)),
    Route("POST", "/api/v1/webhooks/{webhook_id}/rotate-secret", statuses(401, 403, 403, 403, 404)),
    Route("GET", "/api/v1/webhooks/{webhook_id}/deliveries", statuses(401, 403, 403, 403, 404)),
    Route(
        "POST",
        "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
        statuses(401, 403, 403, 403, 404),
    ),
    Route("GET", "/api/v1/admin/automation", ADMIN_ONLY),
    # ticket imports
    Route(
        "POST",
        "/api/v1/imports",
        statuses(401, 403, 403, 403, 201),
        lambda world: {"content": IMPORT_CSV, "headers": {"Content-Type": "text/csv"}},
    ),
    Route("GET", "/api/v1/imports/{import_id}", ADMIN_ONLY),
    Route("POST", "/api/v1/imports/{import_id}/dry-run", ADMIN_ONLY, _json(IMPORT_MAPPING)),
    Route("POST", "/api/v1/imports/{import_id}/apply", ADMIN_ONLY, _json(IMPORT_MAPPING)),
    Route("GET", "/api/v1/imports/{import_id}/tickets", ADMIN_ONLY),
    # the audit trail: read and export only
    Route("GET", "/api/v1/audit", ADMIN_ONLY),
    Route("GET", "/api/v1/audit/export", ADMIN_ONLY),
    # the instance's public limits and switches
    Route("GET", "/api/v1/config", statuses(200, 200, 200, 200, 200)),
]

# Routes deliberately outside the matrix, and why.
NOT_IN_MATRIX: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/auth/signup"): "open to anonymous callers by design",
    ("POST", "/api/v1/auth/login"): "open to anonymous callers by design",
    ("POST", "/api/v1/auth/password-reset"): "open to anonymous callers by design",
    ("POST", "/api/v1/auth/verify-email"): "open to anonymous callers by design",
    ("POST", "/api/v1/auth/password-reset/confirm"): "the mailed link proves who is calling",
    ("POST", "/api/v1/auth/verify-email/confirm"): "the mailed link proves who is calling",
    ("POST", "/api/v1/auth/invitations/accept"): "the mailed link proves who is calling",
    ("POST", "/api/v1/integrations/github/webhook"): "GitHub proves itself with a signature",
    ("GET", "/api/v1/notifications/unsubscribe/{}"): "the link's signed token is the credential",
    ("POST", "/api/v1/notifications/unsubscribe/{}"): "the link's signed token is the credential",
    ("GET", "/api/v1/events/stream"): "stays open: tests/live checks who receives which event",
    ("GET", "/api/v1/followers/unsubscribe/{}"): "the link's signed token is the credential",
    ("POST", "/api/v1/followers/unsubscribe/{}"): "the link's signed token is the credential",
    ("POST", "/api/v1/ratings/link"): "the mailed link's signed token is the credential",
    ("PUT", "/api/v1/ratings/link/comment"): "the rating's signed comment grant is the credential",
}


def _client(world: World, anon: AsyncClient, role: str) -> AsyncClient:
    people = world.accounts
    return {
        "anonymous": anon,
        "owner": people.alice.client,
        "other": people.bob.client,
        "agent": people.agent.client,
        "admin": people.admin.client,
    }[role]


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
async def test_access(
    route: Route, app: FastAPI, accounts: Accounts, conn: Connection, anon: AsyncClient
) -> None:
    found: dict[str, int] = {}
    leaks: list[str] = []
    for role in ROLES:
        world = await make_world(app, accounts, conn)
        kwargs = route.request(world) if route.request else {}
        response = await _client(world, anon, role).request(
            route.method, world.url(route.path), **kwargs
        )
        found[role] = response.status_code
        if role in SUBMITTER_ROLES:
            leaks += [f"{role}: {s!r}" for s in world.secrets if s in response.text]

    assert found == route.expect
    assert leaks == []


UNSAFE_ROUTES = [route for route in ROUTES if route.method not in ("GET", "HEAD")]


@pytest.mark.parametrize("route", UNSAFE_ROUTES, ids=lambda route: route.id)
async def test_read_only_token_changes_nothing(
    route: Route, app: FastAPI, accounts: Accounts, conn: Connection
) -> None:
    """An admin's read-only token, on every route that is not a read: 403, before anything."""
    world = await make_world(app, accounts, conn)
    async with conn.transaction():
        made = await auth.create_token(conn, accounts.admin.user.id, "reader", scope="read")
    before = await _row_counts(conn)
    kwargs = route.request(world) if route.request else {}

    async with AsyncClient(
        transport=ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {made.token}"},
    ) as reader:
        response = await reader.request(route.method, world.url(route.path), **kwargs)

    assert response.status_code == 403
    assert response.json()["code"] == "read_only_token"
    assert await _row_counts(conn) == before


async def _row_counts(conn: Connection) -> dict[str, int]:
    """How many rows each table holds, and how many tokens and sessions are live."""
    cur = await conn.execute(
        "select (select count(*) from tickets) as tickets,"
        " (select count(*) from comments) as comments,"
        " (select count(*) from ticket_events) as events,"
        " (select count(*) from labels) as labels,"
        " (select count(*) from users) as users,"
        " (select count(*) from api_tokens where revoked_at is null) as tokens"
    )
    row = await cur.fetchone()
    assert row is not None
    return dict(row)


async def test_staff_do_see_the_note(app: FastAPI, accounts: Accounts, conn: Connection) -> None:
    """The scan above can find the note: staff responses carry it."""
    world = await make_world(app, accounts, conn)

    for path in ("/api/v1/tickets/{id}", "/api/v1/tickets/{id}/comments"):
        response = await accounts.agent.client.get(world.url(path))
        assert NOTE in response.text, path
    events = await accounts.agent.client.get(world.url("/api/v1/tickets/{id}/events"))
    assert world.note_id in events.text
    assert all(event_id in events.text for event_id in world.internal_event_ids)


async def test_submitter_search_never_finds_the_note(
    app: FastAPI, accounts: Accounts, conn: Connection
) -> None:
    await make_world(app, accounts, conn)

    response = await accounts.alice.client.get("/api/v1/tickets", params={"q": "FRD-55821"})

    assert response.status_code == 200
    assert response.json()["items"] == []


async def test_similar_tickets_are_only_the_callers_own(
    app: FastAPI, accounts: Accounts, conn: Connection
) -> None:
    world = await make_world(app, accounts, conn)
    title = {"title": "The export button does nothing"}

    bob = await accounts.bob.client.get("/api/v1/tickets/similar", params=title)
    alice = await accounts.alice.client.get("/api/v1/tickets/similar", params=title)
    agent = await accounts.agent.client.get("/api/v1/tickets/similar", params=title)

    assert bob.json() == []
    assert [t["id"] for t in alice.json()] == [world.ids["id"]]
    assert [t["id"] for t in agent.json()] == [world.ids["id"]]


def _shape(path: str) -> str:
    """A path with its parameter names blanked, for comparing templates."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    served = {
        (method.upper(), _shape(path))
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    covered = {(route.method, _shape(route.path)) for route in ROUTES} | {
        (method, _shape(path)) for method, path in NOT_IN_MATRIX
    }

    assert served - covered == set(), "add these routes to ROUTES"
    assert covered - served == set(), "these rows name routes the app does not serve"
