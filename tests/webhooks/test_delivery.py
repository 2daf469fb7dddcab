"""Deliveries to a real receiver: signed, shaped per format, retried, failing, redelivered,
and never carrying an internal note to an endpoint that did not ask for notes."""

import json
from typing import Any
from uuid import uuid4

import pytest
from fastapi import FastAPI
from standardwebhooks import Webhook

from tests.factories import Accounts
from tests.notifications.support import assign, comment, open_ticket, set_status
from tests.webhooks.conftest import BASE_URL
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import create_webhook, settled
from tests.workers import running_worker
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.tickets import service as tickets
from ticketdesk.webhooks import messages
from ticketdesk.webhooks.service import Target

NOTE = "Internal: refund approved by finance, ref FIN-4471."


def _verified(webhook: dict[str, Any], receiver: Receiver) -> list[dict[str, Any]]:
    """Every body the receiver got, verified as a receiver would, with the shown secret."""
    verifier = Webhook(webhook["secret"])
    return [verifier.verify(r.body, r.headers) for r in receiver.received]


@pytest.mark.usefixtures("worker")
class TestJson:
    async def test_signed_events_for_each_change(
        self, accounts: Accounts, receiver: Receiver
    ) -> None:
        webhook = await create_webhook(accounts.admin, receiver.url)
        ticket = await open_ticket(accounts.alice, title="Printer on fire")
        await assign(accounts.admin, ticket, accounts.agent)
        await comment(accounts.agent, ticket, "Extinguisher is on its way.")
        await set_status(accounts.agent, ticket, "in_progress")
        await set_status(accounts.agent, ticket, "resolved")
        log = await settled(accounts.admin, webhook, 6)

        # Each delivery is its own job: they may arrive in any order.
        payloads = {p["type"]: p["data"] for p in _verified(webhook, receiver)}
        assert sorted(p["type"] for p in _verified(webhook, receiver)) == [
            "ticket.assigned",
            "ticket.commented",
            "ticket.created",
            "ticket.resolved",
            "ticket.status_changed",
            "ticket.status_changed",
        ]
        created = payloads["ticket.created"]
        assert created["ticket"]["number"] == ticket["number"]
        assert created["ticket"]["title"] == "Printer on fire"
        assert created["ticket"]["url"] == f"{BASE_URL}/tickets/{ticket['number']}"
        assert created["actor"]["name"] == accounts.alice.user.name
        assert payloads["ticket.commented"]["comment"]["body"] == "Extinguisher is on its way."
        assert payloads["ticket.assigned"]["change"]["to"]["name"] == accounts.agent.user.name
        assert payloads["ticket.resolved"]["ticket"]["status"] == "resolved"
        assert [d["status"] for d in log] == ["succeeded"] * 6
        assert all(d["status_code"] == 200 and d["attempts"] == 1 for d in log)
        assert all(d["duration_ms"] is not None and d["response_excerpt"] == "ok" for d in log)
        ids = [r.headers["webhook-id"] for r in receiver.received]
        assert len(set(ids)) == 6

    async def test_a_ticket_routed_by_a_rule(self, accounts: Accounts, receiver: Receiver) -> None:
        made = await accounts.admin.client.post(
            "/api/v1/teams",
            json={"name": "Billing", "member_ids": [str(accounts.agent.user.id)]},
        )
        team = made.json()
        rule = await accounts.admin.client.post(
            "/api/v1/assignment-rules",
            json={"name": "Billing", "actions": {"team_id": team["id"], "round_robin": True}},
        )
        assert rule.status_code == 201
        webhook = await create_webhook(
            accounts.admin, receiver.url, events=["ticket.assigned"], staff_only=True
        )

        await open_ticket(accounts.alice, title="Invoice total is wrong")
        await settled(accounts.admin, webhook, 2)

        changes = {p["data"]["change"]["field"]: p["data"] for p in _verified(webhook, receiver)}
        assert changes["team"]["change"]["to"] == {"id": team["id"], "name": "Billing"}
        assert changes["assignee"]["change"]["to"]["name"] == accounts.agent.user.name
        # Made by the system, on the rule's behalf; the ticket names its team.
        assert changes["assignee"]["actor"] is None
        assert changes["assignee"]["ticket"]["team"] == {"id": team["id"], "name": "Billing"}

    async def test_teams_only_to_staff_only_endpoints(
        self, accounts: Accounts, receiver: Receiver
    ) -> None:
        made = await accounts.admin.client.post(
            "/api/v1/teams",
            json={"name": "Billing", "member_ids": [str(accounts.agent.user.id)]},
        )
        rule = await accounts.admin.client.post(
            "/api/v1/assignment-rules",
            json={
                "name": "Billing",
                "actions": {"team_id": made.json()["id"], "round_robin": True},
            },
        )
        assert rule.status_code == 201
        webhook = await create_webhook(accounts.admin, receiver.url, events=["ticket.assigned"])

        await open_ticket(accounts.alice, title="Invoice total is wrong")
        await settled(accounts.admin, webhook, 1)

        [sent] = _verified(webhook, receiver)
        assert sent["data"]["change"]["field"] == "assignee"
        assert "team" not in sent["data"]["ticket"]
        assert "Billing" not in json.dumps(sent)

    async def test_a_tampered_body_does_not_verify(
        self, accounts: Accounts, receiver: Receiver
    ) -> None:
        webhook = await create_webhook(accounts.admin, receiver.url, events=["ticket.created"])
        await open_ticket(accounts.alice)
        await settled(accounts.admin, webhook, 1)
        [received] = receiver.received
        with pytest.raises(Exception, match="No matching signature"):
            Webhook(webhook["secret"]).verify(received.body + b" ", received.headers)

    async def test_only_subscribed_events(self, accounts: Accounts, receiver: Receiver) -> None:
        webhook = await create_webhook(accounts.admin, receiver.url, events=["ticket.closed"])
        ticket = await open_ticket(accounts.alice)
        await set_status(accounts.agent, ticket, "in_progress")
        await set_status(accounts.agent, ticket, "resolved")
        await set_status(accounts.agent, ticket, "closed")
        await settled(accounts.admin, webhook, 1)
        assert [p["type"] for p in _verified(webhook, receiver)] == ["ticket.closed"]


@pytest.mark.usefixtures("worker")
class TestChatFormats:
    async def test_slack_and_discord_messages(self, accounts: Accounts, receiver: Receiver) -> None:
        slack = await create_webhook(
            accounts.admin, f"{receiver.url}/slack", format="slack", events=["ticket.commented"]
        )
        discord = await create_webhook(
            accounts.admin,
            f"{receiver.url}/discord",
            format="discord",
            events=["ticket.commented"],
        )
        ticket = await open_ticket(accounts.alice, title="VPN drops hourly")
        await comment(accounts.agent, ticket, "Try the new client, please.")
        await settled(accounts.admin, slack, 1)
        await settled(accounts.admin, discord, 1)

        by_path = {r.path: json.loads(r.body) for r in receiver.received}
        to_slack, to_discord = by_path["/hook/slack"], by_path["/hook/discord"]
        assert set(to_slack) == {"text", "blocks"}
        assert f"#{ticket['number']} VPN drops hourly" in to_slack["text"]
        assert "Try the new client, please." in json.dumps(to_slack["blocks"])
        assert f"{BASE_URL}/tickets/{ticket['number']}" in json.dumps(to_slack["blocks"])
        assert set(to_discord) == {"content", "embeds", "allowed_mentions"}
        assert f"#{ticket['number']} VPN drops hourly" in to_discord["content"]
        [embed] = to_discord["embeds"]
        assert embed["url"] == f"{BASE_URL}/tickets/{ticket['number']}"
        assert "Try the new client, please." in embed["description"]

    async def test_a_hostile_title_neither_pings_nor_links(
        self, accounts: Accounts, receiver: Receiver
    ) -> None:
        events = ["ticket.created"]
        slack = await create_webhook(
            accounts.admin, f"{receiver.url}/slack", format="slack", events=events
        )
        discord = await create_webhook(
            accounts.admin, f"{receiver.url}/discord", format="discord", events=events
        )
        title = "<!channel> @everyone see <https://evil.example|your invoice> & pay"
        ticket = await open_ticket(accounts.alice, title=title)
        await settled(accounts.admin, slack, 1)
        await settled(accounts.admin, discord, 1)

        by_path = {r.path: json.loads(r.body) for r in receiver.received}
        to_slack, to_discord = by_path["/hook/slack"], by_path["/hook/discord"]
        shown = "&lt;!channel&gt; @everyone see &lt;https://evil.example|your invoice&gt; &amp; pay"
        assert to_slack["text"].endswith(f"#{ticket['number']} {shown}")
        mrkdwn = to_slack["blocks"][0]["text"]["text"]
        assert f"#{ticket['number']} {shown} <{BASE_URL}/tickets/" in mrkdwn
        assert "<!channel>" not in json.dumps(to_slack)
        assert title in to_discord["content"]
        assert to_discord["allowed_mentions"] == {"parse": []}


@pytest.mark.usefixtures("worker")
class TestInternalNotes:
    async def test_only_staff_endpoints_that_ask_get_notes(
        self, accounts: Accounts, receiver: Receiver
    ) -> None:
        events = ["ticket.commented"]
        public = await create_webhook(accounts.admin, f"{receiver.url}/public", events=events)
        staff = await create_webhook(
            accounts.admin, f"{receiver.url}/staff", events=events, staff_only=True
        )
        notes = await create_webhook(
            accounts.admin,
            f"{receiver.url}/notes",
            events=events,
            staff_only=True,
            include_internal=True,
        )
        ticket = await open_ticket(accounts.alice)
        await comment(accounts.agent, ticket, NOTE, internal=True)
        await comment(accounts.agent, ticket, "We are on it.")
        await settled(accounts.admin, public, 1)
        await settled(accounts.admin, staff, 1)
        await settled(accounts.admin, notes, 2)

        bodies: dict[str, list[bytes]] = {}
        for received in receiver.received:
            bodies.setdefault(received.path, []).append(received.body)
        for path in ("/hook/public", "/hook/staff"):
            [body] = bodies[path]
            assert b"We are on it." in body
            assert b"FIN-4471" not in body
        noted = [json.loads(b)["data"]["comment"] for b in bodies["/hook/notes"]]
        assert sorted((c["body"], c["is_internal"]) for c in noted) == [
            (NOTE, True),
            ("We are on it.", False),
        ]

    async def test_notes_need_a_staff_only_endpoint(
        self, accounts: Accounts, receiver: Receiver
    ) -> None:
        response = await accounts.admin.client.post(
            "/api/v1/webhooks",
            json={
                "name": "Leaky",
                "url": receiver.url,
                "events": ["ticket.commented"],
                "include_internal": True,
            },
        )
        assert response.status_code == 422
        assert response.json()["field"] == "include_internal"


@pytest.mark.usefixtures("worker")
class TestEscalation:
    async def test_a_staff_only_endpoint_hears_of_an_escalation_once(
        self, accounts: Accounts, receiver: Receiver, conn: Connection
    ) -> None:
        webhook = await create_webhook(
            accounts.admin, receiver.url, events=["ticket.escalated"], staff_only=True
        )
        slack = await create_webhook(
            accounts.admin,
            f"{receiver.url}/slack",
            format="slack",
            events=["ticket.escalated"],
            staff_only=True,
        )
        ticket = await open_ticket(accounts.alice, priority="critical", title="Checkout is down")
        await conn.execute(
            "update tickets set created_at = now() - interval '5 hours' where id = %s",
            (ticket["id"],),
        )
        for _ in range(2):
            async with conn.transaction():
                await tickets.escalate_overdue(conn, priority="critical", after_hours=4)
        await settled(accounts.admin, webhook, 1)
        await settled(accounts.admin, slack, 1)

        by_path = {r.path: r for r in receiver.received}
        to_slack = json.loads(by_path.pop("/hook/slack").body)
        assert to_slack["text"] == (
            f"Ticket escalated: #{ticket['number']} Checkout is down"
            " (critical, no staff reply in 4 h)"
        )
        [received] = by_path.values()
        escalated = Webhook(webhook["secret"]).verify(received.body, received.headers)
        assert escalated["type"] == "ticket.escalated"
        assert escalated["data"]["ticket"]["number"] == ticket["number"]
        assert escalated["data"]["escalation"] == {"priority": "critical", "after_hours": 4}
        assert escalated["data"]["actor"] is None

    async def test_only_a_staff_only_endpoint_may_take_escalations(
        self, accounts: Accounts, receiver: Receiver
    ) -> None:
        refused = await accounts.admin.client.post(
            "/api/v1/webhooks",
            json={"name": "Public", "url": receiver.url, "events": ["ticket.escalated"]},
        )
        assert refused.status_code == 422
        assert refused.json()["code"] == "event_needs_staff_only"
        assert refused.json()["field"] == "events"

        webhook = await create_webhook(
            accounts.admin, receiver.url, events=["ticket.escalated"], staff_only=True
        )
        opened_up = await accounts.admin.client.patch(
            f"/api/v1/webhooks/{webhook['id']}", json={"staff_only": False}
        )
        assert opened_up.status_code == 422
        assert opened_up.json()["code"] == "event_needs_staff_only"
        assert opened_up.json()["field"] == "staff_only"

    @pytest.mark.parametrize(
        ("staff_only", "include_internal", "wanted"),
        [(False, False, False), (True, False, True), (True, True, True)],
    )
    def test_a_queued_escalation_goes_only_where_staff_read(
        self, staff_only: bool, include_internal: bool, wanted: bool
    ) -> None:
        target = Target(
            id=uuid4(),
            status="pending",
            message_id="msg_1",
            event="ticket.escalated",
            payload={"type": "ticket.escalated", "data": {"ticket": {}, "actor": None}},
            webhook_id=uuid4(),
            url="https://hooks.example.com/",
            format="json",
            secret="whsec_x",
            is_active=True,
            staff_only=staff_only,
            include_internal=include_internal,
        )
        assert target.still_wanted() is wanted


@pytest.mark.usefixtures("worker")
class TestRetries:
    async def test_500s_are_retried_with_the_same_message(
        self, accounts: Accounts, receiver: Receiver
    ) -> None:
        receiver.plan.extend([(500, 0.0), (503, 0.0)])
        webhook = await create_webhook(accounts.admin, receiver.url, events=["ticket.created"])
        await open_ticket(accounts.alice)
        [delivery] = await settled(accounts.admin, webhook, 1)

        assert delivery["status"] == "succeeded"
        assert delivery["attempts"] == 3
        assert delivery["status_code"] == 200
        assert len(receiver.received) == 3
        assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
        assert len(_verified(webhook, receiver)) == 3

    async def test_a_slow_endpoint_times_out_and_is_retried(
        self, accounts: Accounts, receiver: Receiver
    ) -> None:
        receiver.plan.append((200, 2.0))  # longer than timeout_seconds
        webhook = await create_webhook(accounts.admin, receiver.url, events=["ticket.created"])
        await open_ticket(accounts.alice)
        [delivery] = await settled(accounts.admin, webhook, 1)

        assert delivery["status"] == "succeeded"
        assert delivery["attempts"] == 2
        assert len(receiver.received) == 2

    async def test_failing_after_the_last_attempt_then_redelivered(
        self, accounts: Accounts, receiver: Receiver
    ) -> None:
        receiver.plan.extend([(500, 0.0)] * 3)
        webhook = await create_webhook(accounts.admin, receiver.url, events=["ticket.created"])
        await open_ticket(accounts.alice)
        [failed] = await settled(accounts.admin, webhook, 1)

        assert failed["status"] == "failed"
        assert failed["attempts"] == 3
        assert failed["status_code"] == 500
        assert failed["error"] == "The endpoint answered 500."
        assert len(failed["response_excerpt"].encode()) == 1024
        [listed] = (await accounts.admin.client.get("/api/v1/webhooks")).json()["items"]
        assert listed["failing_since"] is not None
        assert listed["last_error"] == "The endpoint answered 500."

        response = await accounts.admin.client.post(
            f"/api/v1/webhooks/{webhook['id']}/deliveries/{failed['id']}/redeliver"
        )
        assert response.status_code == 202, response.text
        again, before = await settled(accounts.admin, webhook, 2)
        assert before["id"] == failed["id"]
        assert again["status"] == "succeeded"
        assert again["message_id"] == failed["message_id"]
        assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
        listed = (await accounts.admin.client.get(f"/api/v1/webhooks/{webhook['id']}")).json()
        assert listed["failing_since"] is None

    async def test_redirects_are_not_followed(self, accounts: Accounts, receiver: Receiver) -> None:
        receiver.plan.append((302, 0.0))
        webhook = await create_webhook(accounts.admin, receiver.url, events=["ticket.created"])
        await open_ticket(accounts.alice)
        [delivery] = await settled(accounts.admin, webhook, 1)

        assert delivery["attempts"] == 2
        assert [r.path for r in receiver.received] == ["/hook", "/hook"]

    async def test_the_name_is_sent_as_host_while_calling_the_checked_address(
        self, accounts: Accounts, receiver: Receiver
    ) -> None:
        by_name = receiver.url.replace("127.0.0.1", "localhost")
        webhook = await create_webhook(accounts.admin, by_name, events=["ticket.created"])
        await open_ticket(accounts.alice)
        [delivery] = await settled(accounts.admin, webhook, 1)

        assert delivery["status"] == "succeeded"
        [received] = receiver.received
        assert received.headers["host"] == by_name.split("/")[2]
        assert received.headers["accept-encoding"] == "identity"

    async def test_a_binary_answer_is_taken_once_and_its_excerpt_kept(
        self, accounts: Accounts, receiver: Receiver
    ) -> None:
        receiver.reply = b"\x00\x01PNG\r\n\x1a\n\xff\xfe done\tok\x7f"
        webhook = await create_webhook(accounts.admin, receiver.url, events=["ticket.created"])
        await open_ticket(accounts.alice)
        [delivery] = await settled(accounts.admin, webhook, 1)

        assert delivery["status"] == "succeeded"
        assert delivery["attempts"] == 1
        assert delivery["response_excerpt"] == "PNG\n\n done\tok"
        assert len(receiver.received) == 1

    async def test_an_unexpected_error_fails_the_delivery_at_once(
        self, accounts: Accounts, receiver: Receiver
    ) -> None:
        # The HTTP client refuses to build a request to this URL.
        url = f"{receiver.url}/a\x7fb"
        webhook = await create_webhook(accounts.admin, url, events=["ticket.created"])
        await open_ticket(accounts.alice)
        [delivery] = await settled(accounts.admin, webhook, 1)

        assert delivery["status"] == "failed"
        assert delivery["attempts"] == 1
        assert delivery["error"].startswith("InvalidURL: ")
        assert receiver.received == []

    async def test_a_name_that_does_not_resolve_is_retried(
        self, accounts: Accounts, receiver: Receiver, conn: Connection
    ) -> None:
        webhook = await create_webhook(accounts.admin, receiver.url, events=["ticket.created"])
        # Saved while it resolved; DNS fails by the time of delivery.
        await conn.execute(
            "update webhooks set url = 'http://nonexistent.invalid/hook' where id = %s",
            [webhook["id"]],
        )
        await open_ticket(accounts.alice)
        [delivery] = await settled(accounts.admin, webhook, 1)

        assert delivery["status"] == "failed"
        assert delivery["attempts"] == 3
        assert delivery["error"] == (
            "The URL names a host that does not resolve (nonexistent.invalid)."
        )

    async def test_redeliver_unknown_delivery(self, accounts: Accounts, receiver: Receiver) -> None:
        webhook = await create_webhook(accounts.admin, receiver.url)
        response = await accounts.admin.client.post(
            f"/api/v1/webhooks/{webhook['id']}/deliveries/"
            "00000000-0000-0000-0000-000000000001/redeliver"
        )
        assert response.status_code == 404


class TestDeliveryTimeGuard:
    # The endpoint was saved while private targets were allowed; the worker now refuses them.
    async def test_private_target_refused_when_delivering(
        self, app: FastAPI, settings: Settings, accounts: Accounts, receiver: Receiver
    ) -> None:
        webhook = await create_webhook(accounts.admin, receiver.url, events=["ticket.created"])
        strict = settings.model_copy(
            update={
                "webhooks": settings.webhooks.model_copy(update={"allow_private_targets": False})
            }
        )
        async with running_worker(app, strict):
            await open_ticket(accounts.alice)
            [delivery] = await settled(accounts.admin, webhook, 1)

        assert delivery["status"] == "failed"
        assert "127.0.0.1" in delivery["error"]
        assert "not on the public internet" in delivery["error"]
        assert receiver.received == []
        listed = (await accounts.admin.client.get(f"/api/v1/webhooks/{webhook['id']}")).json()
        assert listed["failing_since"] is not None


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"field": "team", "to": {"id": "1", "name": "Billing"}}, "→ team Billing"),
        ({"field": "team", "to": None}, "→ no team"),
        ({"field": "assignee", "to": {"id": "2", "name": "Dana"}}, "→ Dana"),
        ({"field": "assignee", "to": None}, "→ nobody"),
    ],
)
def test_chat_messages_say_what_was_assigned(change: dict[str, Any], said: str) -> None:
    payload = {
        "type": "ticket.assigned",
        "data": {
            "ticket": {"number": 7, "title": "Invoice", "url": f"{BASE_URL}/tickets/7"},
            "actor": None,
            "change": {"from": None, **change},
        },
    }
    assert json.loads(messages.body("slack", payload))["text"].endswith(said)
