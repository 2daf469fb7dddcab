"""The audit trail: each administrative action leaves one entry, in its own transaction,
with its actor, client address, target and the target's state either side."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI

from tests.factories import PASSWORD, Accounts, create_ticket, make_user, signed_in
from tests.mailservers import SmtpServer
from ticketdesk.auth import service as auth
from ticketdesk.canned import service as canned
from ticketdesk.canned.schemas import CannedReplyCreate
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.fields import service as fields
from ticketdesk.fields.schemas import CustomFieldCreate
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
from ticketdesk.users import service as users
from ticketdesk.webhooks import service as webhooks
from ticketdesk.webhooks.schemas import WebhookCreate

PROXY = "127.0.0.1"  # the test client's own address: ASGITransport's peer
CLIENT = "203.0.113.7"  # the address the proxy forwards
HOOK_URL = "https://93.184.215.14/hook"


@pytest.fixture
def settings_overrides(smtp_server: SmtpServer) -> dict[str, Any]:
    """Behind a trusted proxy, with mail (invitations need it)."""
    return {"trusted_proxies": [PROXY], "smtp_url": smtp_server.url}


def _policy(name: str, minutes: int = 600) -> dict[str, Any]:
    return {
        "name": name,
        "calendar": {
            "time_zone": "Europe/Berlin",
            "week": {"mon": [{"start": "09:00", "end": "17:00"}]},
        },
        "targets": [{"priority": "low", "first_response_minutes": minutes}],
    }


@dataclass
class World:
    """One of each thing an admin acts on, made through the services (no entries)."""

    ids: dict[str, str]


async def make_world(
    app: FastAPI, accounts: Accounts, conn: Connection, settings: Settings
) -> World:
    ticket = await create_ticket(conn, accounts.alice)
    main = await create_ticket(
        conn, accounts.admin, title="Main ticket", description="The main one, where the others go."
    )
    async with signed_in(app, conn, accounts.alice.user) as alice:
        upload = await alice.post(
            f"/api/v1/tickets/{ticket.id}/attachments",
            files={"files": ("steps.txt", b"1. open\n2. click\n", "text/plain")},
        )
    assert upload.status_code == 201, upload.text
    async with conn.transaction():
        label = await labels.create_label(conn, LabelCreate(name="billing"))
        custom = await fields.create_field(
            conn, CustomFieldCreate(key="plan", label="Plan", type="text")
        )
        rule = await routing.create_rule(
            conn, RuleCreate(name="Urgent first", actions=RuleActions(priority="high"))
        )
        policy = await sla.create_policy(conn, SlaPolicyWrite.model_validate(_policy("Gold")))
        team = await teams.create_team(
            conn, TeamCreate(name="Tier 1", member_ids=[accounts.agent.user.id])
        )
        hook = await webhooks.create_webhook(
            conn,
            settings,
            WebhookCreate(name="Chat", url=HOOK_URL, events=["ticket.created"]),
        )
        reply = await canned.create_reply(
            conn,
            accounts.admin.actor,
            CannedReplyCreate(title="Thanks", body="Thanks for writing.", scope="shared"),
        )
        view = await saved_views.create_view(
            conn, accounts.admin.actor, SavedViewCreate(name="Urgent", shared=True)
        )
        token = await auth.create_token(conn, accounts.admin.user.id, "old deploy key")
    target = await make_user(conn, name="Target Person")
    inactive = await make_user(conn, name="Gone Person")
    await users.update_user(conn, inactive.id, name=None, role=None, is_active=False)
    job = await conn.execute(
        "insert into procrastinate_jobs (queue_name, task_name, args, status, attempts)"
        " values ('default', 'tickets.sla', '{}', 'failed', 4) returning id"
    )
    inbound = await conn.execute(
        "insert into inbound_messages (message_key, message_id, source, sender, subject, status,"
        " raw) values ('raw:1', '<m1@example.com>', 'pipe', 'x@example.com', 'Hi', 'failed',"
        " 'Subject: Hi')"
        " returning id"
    )
    return World(
        ids={
            "ticket": str(ticket.id),
            "main": str(main.id),
            "attachment": upload.json()[0]["id"],
            "label": str(label.id),
            "field": str(custom.id),
            "rule": str(rule.id),
            "policy": str(policy.id),
            "team": str(team.id),
            "webhook": str(hook.id),
            "reply": str(reply.id),
            "view": str(view.id),
            "token": str(token.id),
            "user": str(target.id),
            "inactive": str(inactive.id),
            "job": str((await job.fetchone() or {})["id"]),
            "inbound": str((await inbound.fetchone() or {})["id"]),
            "agent": str(accounts.agent.user.id),
        }
    )


@dataclass
class Case:
    """An admin's request and the entry it must leave."""

    action: str
    target_type: str
    method: str
    path: str
    body: dict[str, Any] | None = None
    # The world's id the entry names; None: the id in the response; "": no target id.
    target: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    # A request made first, through the API, for the one under test to act on.
    prepare: tuple[str, str, dict[str, Any] | None] | None = None
    status: int = 200
    check: Callable[[dict[str, Any]], None] = field(default=lambda entry: None)


def _no_token_value(entry: dict[str, Any]) -> None:
    assert entry["after"]["token"] == "[redacted]"


def _undone(entry: dict[str, Any]) -> None:
    assert entry["after"]["undone_at"] is not None


def _no_webhook_secret(entry: dict[str, Any]) -> None:
    assert entry["after"]["secret"] == "[redacted]"


CASES = [
    Case(
        "user.created",
        "user",
        "POST",
        "/users",
        {
            "email": "new-person@example.com",
            "name": "New Person",
            "role": "agent",
            "password": PASSWORD,
        },
        after={"email": "new-person@example.com", "role": "agent"},
        status=201,
    ),
    Case(
        "user.role_changed",
        "user",
        "PATCH",
        "/users/{user}",
        {"role": "agent"},
        "user",
        before={"role": "user"},
        after={"role": "agent"},
    ),
    Case(
        "user.deactivated",
        "user",
        "PATCH",
        "/users/{user}",
        {"is_active": False},
        "user",
        before={"is_active": True},
        after={"is_active": False},
    ),
    Case(
        "user.activated",
        "user",
        "PATCH",
        "/users/{inactive}",
        {"is_active": True},
        "inactive",
        before={"is_active": False},
        after={"is_active": True},
    ),
    Case(
        "user.updated",
        "user",
        "PATCH",
        "/users/{user}",
        {"name": "Renamed Person"},
        "user",
        before={"name": "Target Person"},
        after={"name": "Renamed Person"},
    ),
    Case(
        "user.invited",
        "user",
        "POST",
        "/users/invitations",
        {"email": "invited@example.com", "name": "Invited Person"},
        after={"email": "invited@example.com", "invitation_pending": True},
        status=201,
    ),
    Case(
        "user.invitation_resent",
        "user",
        "POST",
        "/users/{prepared}/invitation",
        None,
        "prepared",
        prepare=("POST", "/users/invitations", {"email": "again@example.com", "name": "Again"}),
        status=202,
    ),
    Case(
        "token.created",
        "token",
        "POST",
        "/me/tokens",
        {"name": "ci"},
        after={"name": "ci", "scope": "write"},
        status=201,
        check=_no_token_value,
    ),
    Case(
        "token.revoked",
        "token",
        "DELETE",
        "/me/tokens/{token}",
        None,
        "token",
        before={"name": "old deploy key"},
        status=204,
    ),
    Case(
        "token.revoked_all",
        "user",
        "POST",
        "/auth/logout-everywhere",
        {"revoke_tokens": True},
        "admin",
        after={"tokens_revoked": 2},
    ),
    Case(
        "label.created",
        "label",
        "POST",
        "/labels",
        {"name": "refunds"},
        after={"name": "refunds"},
        status=201,
    ),
    Case(
        "label.updated",
        "label",
        "PATCH",
        "/labels/{label}",
        {"name": "invoices"},
        "label",
        before={"name": "billing"},
        after={"name": "invoices"},
    ),
    Case(
        "label.deleted",
        "label",
        "DELETE",
        "/labels/{label}",
        None,
        "label",
        before={"name": "billing"},
        status=204,
    ),
    Case(
        "custom_field.created",
        "custom_field",
        "POST",
        "/custom-fields",
        {"key": "region", "label": "Region", "type": "text"},
        after={"key": "region"},
        status=201,
    ),
    Case(
        "custom_field.updated",
        "custom_field",
        "PATCH",
        "/custom-fields/{field}",
        {"label": "Plan tier"},
        "field",
        before={"label": "Plan"},
        after={"label": "Plan tier"},
    ),
    Case(
        "custom_field.deleted",
        "custom_field",
        "DELETE",
        "/custom-fields/{field}",
        None,
        "field",
        before={"key": "plan"},
        status=204,
    ),
    Case(
        "assignment_rule.created",
        "assignment_rule",
        "POST",
        "/assignment-rules",
        {"name": "VIPs", "actions": {"priority": "critical"}},
        after={"name": "VIPs"},
        status=201,
    ),
    Case(
        "assignment_rule.updated",
        "assignment_rule",
        "PATCH",
        "/assignment-rules/{rule}",
        {"enabled": False},
        "rule",
        before={"enabled": True},
        after={"enabled": False},
    ),
    Case(
        "assignment_rule.deleted",
        "assignment_rule",
        "DELETE",
        "/assignment-rules/{rule}",
        None,
        "rule",
        before={"name": "Urgent first"},
        status=204,
    ),
    Case(
        "sla_policy.created",
        "sla_policy",
        "POST",
        "/sla-policies",
        _policy("Silver"),
        after={"name": "Silver"},
        status=201,
    ),
    Case(
        "sla_policy.updated",
        "sla_policy",
        "PUT",
        "/sla-policies/{policy}",
        _policy("Platinum", 60),
        "policy",
        before={"name": "Gold"},
        after={"name": "Platinum"},
    ),
    Case(
        "sla_policy.deleted",
        "sla_policy",
        "DELETE",
        "/sla-policies/{policy}",
        None,
        "policy",
        before={"name": "Gold"},
        status=204,
    ),
    Case(
        "team.created",
        "team",
        "POST",
        "/teams",
        {"name": "Tier 2"},
        after={"name": "Tier 2"},
        status=201,
    ),
    Case(
        "team.updated",
        "team",
        "PATCH",
        "/teams/{team}",
        {"name": "Tier One"},
        "team",
        before={"name": "Tier 1"},
        after={"name": "Tier One"},
    ),
    Case(
        "team.deleted",
        "team",
        "DELETE",
        "/teams/{team}",
        None,
        "team",
        before={"name": "Tier 1"},
        status=204,
    ),
    Case(
        "webhook.created",
        "webhook",
        "POST",
        "/webhooks",
        {"name": "Pager", "url": HOOK_URL, "events": ["ticket.created"]},
        after={"name": "Pager", "url": HOOK_URL},
        status=201,
        check=_no_webhook_secret,
    ),
    Case(
        "webhook.updated",
        "webhook",
        "PATCH",
        "/webhooks/{webhook}",
        {"is_active": False},
        "webhook",
        before={"is_active": True},
        after={"is_active": False},
    ),
    Case(
        "webhook.deleted",
        "webhook",
        "DELETE",
        "/webhooks/{webhook}",
        None,
        "webhook",
        before={"name": "Chat"},
        status=204,
    ),
    Case(
        "webhook.secret_rotated",
        "webhook",
        "POST",
        "/webhooks/{webhook}/rotate-secret",
        None,
        "webhook",
        before={"name": "Chat"},
        after={"name": "Chat"},
        check=_no_webhook_secret,
    ),
    Case(
        "canned_reply.created",
        "canned_reply",
        "POST",
        "/canned-replies",
        {"title": "Bye", "body": "Bye now.", "scope": "shared"},
        after={"title": "Bye"},
        status=201,
    ),
    Case(
        "canned_reply.updated",
        "canned_reply",
        "PATCH",
        "/canned-replies/{reply}",
        {"title": "Thank you"},
        "reply",
        before={"title": "Thanks"},
        after={"title": "Thank you"},
    ),
    Case(
        "canned_reply.deleted",
        "canned_reply",
        "DELETE",
        "/canned-replies/{reply}",
        None,
        "reply",
        before={"title": "Thanks"},
        status=204,
    ),
    Case(
        "saved_view.created",
        "saved_view",
        "POST",
        "/saved-views",
        {"name": "Mine", "shared": True},
        after={"name": "Mine", "shared": True},
        status=201,
    ),
    Case(
        "saved_view.updated",
        "saved_view",
        "PATCH",
        "/saved-views/{view}",
        {"name": "Hot"},
        "view",
        before={"name": "Urgent"},
        after={"name": "Hot"},
    ),
    Case(
        "saved_view.deleted",
        "saved_view",
        "DELETE",
        "/saved-views/{view}",
        None,
        "view",
        before={"name": "Urgent"},
        status=204,
    ),
    Case(
        "ticket.merged",
        "ticket",
        "POST",
        "/tickets/{ticket}/merge",
        {"into": "{main}"},
        "ticket",
        after={"main": {"title": "Main ticket"}},
        status=201,
    ),
    Case(
        "ticket.unmerged",
        "ticket",
        "DELETE",
        "/tickets/{ticket}/merge",
        None,
        "ticket",
        after={"main": {"title": "Main ticket"}},
        prepare=("POST", "/tickets/{ticket}/merge", {"into": "{main}"}),
        check=_undone,
    ),
    Case(
        "attachment.deleted",
        "attachment",
        "DELETE",
        "/tickets/{ticket}/attachments/{attachment}",
        None,
        "attachment",
        before={"filename": "steps.txt"},
        status=204,
    ),
    Case(
        "ticket.bulk_updated",
        "ticket",
        "POST",
        "/tickets/bulk",
        {"ticket_ids": ["{ticket}"], "action": "priority", "value": "high"},
        "",
        after={"action": "priority", "value": "high"},
    ),
    Case(
        "job.retried",
        "job",
        "POST",
        "/admin/jobs/{job}/retry",
        None,
        "job",
        after={"task_name": "tickets.sla"},
    ),
    Case(
        "inbound_mail.dismissed",
        "inbound_mail",
        "POST",
        "/admin/inbound-mail/{inbound}/dismiss",
        None,
        "inbound",
        after={"status": "dismissed", "subject": "Hi"},
    ),
    Case(
        "audit.exported",
        "audit_log",
        "GET",
        "/audit/export?format=json&action=label.",
        None,
        "",
        after={"format": "json", "action": "label."},
    ),
]


def _filled(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: _filled(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_filled(item, ids) for item in value]
    return value


def _contains(whole: dict[str, Any] | None, part: dict[str, Any]) -> bool:
    assert whole is not None
    return all(
        _contains(whole.get(key), value) if isinstance(value, dict) else whole.get(key) == value
        for key, value in part.items()
    )


async def entries(conn: Connection) -> list[dict[str, Any]]:
    cur = await conn.execute("select * from audit_log order by at, id")
    return await cur.fetchall()


class TestEveryAdminAction:
    @pytest.mark.parametrize("case", CASES, ids=[case.action for case in CASES])
    async def test_leaves_one_entry(
        self, app: FastAPI, accounts: Accounts, conn: Connection, settings: Settings, case: Case
    ) -> None:
        world = await make_world(app, accounts, conn, settings)
        ids = {**world.ids, "admin": str(accounts.admin.user.id)}
        admin = accounts.admin.client
        forwarded = {"X-Forwarded-For": CLIENT}
        if case.prepare is not None:
            method, path, body = case.prepare
            prepared = await admin.request(
                method, "/api/v1" + _filled(path, ids), json=_filled(body, ids)
            )
            assert prepared.is_success, prepared.text
            if method == "POST" and "invitations" in path:
                ids["prepared"] = prepared.json()["id"]
        already = len(await entries(conn))

        response = await admin.request(
            case.method,
            "/api/v1" + _filled(case.path, ids),
            json=_filled(case.body, ids),
            headers=forwarded,
        )

        assert response.status_code == case.status, response.text
        new = (await entries(conn))[already:]
        assert [entry["action"] for entry in new] == [case.action]
        entry = new[0]
        if case.target is None:
            expected_target: str | None = response.json()["id"]
        else:
            expected_target = ids[case.target] if case.target else None
        assert entry["target_type"] == case.target_type
        assert entry["target_id"] == expected_target
        assert entry["actor_id"] == accounts.admin.user.id
        assert (entry["actor_email"], entry["actor_name"]) == (
            accounts.admin.user.email,
            accounts.admin.user.name,
        )
        assert entry["client_address"] == CLIENT
        if case.before is None:
            assert entry["before"] is None
        else:
            assert _contains(entry["before"], _filled(case.before, ids)), entry["before"]
        if case.after is None:
            assert entry["after"] is None
        else:
            assert _contains(entry["after"], _filled(case.after, ids)), entry["after"]
        case.check(entry)
