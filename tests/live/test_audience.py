"""Who sees each kind of event: a submitter what concerns them, staff everything.

Every kind the event log knows is recorded, as a public change, on one submitter's ticket;
their timeline and their live stream show each only when the table below says so, and an
agent's show every one.
"""

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, get_args

import httpx

from tests.factories import ticket_body
from tests.live.conftest import EventReader, Server, Someone, open_stream
from ticketdesk.changes import Change, EventKind, record_change
from ticketdesk.db import Connection
from ticketdesk.users.schemas import Role

Person = Callable[[Role, str], Awaitable[Someone]]

# The ticket a merged duplicate points to (a merge's events name it).
_MAIN = {"id": str(uuid.uuid4()), "number": 7}

# Each kind, whether its ticket's submitter sees it, and the data it is recorded with.
SUBMITTER_SEES: dict[str, tuple[bool, dict[str, Any]]] = {
    "created": (True, {"type": "bug", "priority": "low", "title": "Export is empty"}),
    "title_changed": (True, {"from": "Export is empty", "to": "CSV export is empty"}),
    "description_changed": (True, {"from": "Nothing in it.", "to": "Nothing in it at all."}),
    "metadata_changed": (True, {"from": {}, "to": {"os": "Linux"}}),
    "custom_field_changed": (
        True,
        {"field": "severity", "label": "Severity", "from": None, "to": "major"},
    ),
    "status_changed": (True, {"from": "open", "to": "in_progress"}),
    "commented": (True, {"comment_id": str(uuid.uuid4()), "is_internal": False}),
    "comment_edited": (True, {"comment_id": str(uuid.uuid4())}),
    "comment_deleted": (True, {"comment_id": str(uuid.uuid4())}),
    "attachment_added": (
        True,
        {
            "attachment_id": str(uuid.uuid4()),
            "filename": "export.csv",
            "media_type": "text/csv",
            "size_bytes": 12,
        },
    ),
    "attachment_deleted": (True, {"attachment_id": str(uuid.uuid4()), "filename": "export.csv"}),
    "merged": (True, {"role": "duplicate", "main": _MAIN, "comments": 1, "attachments": 0}),
    "unmerged": (True, {"role": "duplicate", "main": _MAIN, "comments": 1, "attachments": 0}),
    "type_changed": (False, {"from": "bug", "to": "feature"}),
    "priority_changed": (False, {"from": "low", "to": "high"}),
    "tags_changed": (False, {"added": ["billing"], "removed": []}),
    "assigned": (False, {"from": None, "to": None}),
    "team_changed": (False, {"from": None, "to": {"id": str(uuid.uuid4()), "name": "Billing"}}),
    "rule_applied": (False, {"rule": {"id": str(uuid.uuid4()), "name": "To billing"}}),
    "escalated": (False, {"priority": "low", "after_hours": 4}),
    "sla_breached": (
        False,
        {"target": "first_response", "due_at": "2026-03-02T10:00:00+00:00", "policy": "Gold"},
    ),
    "github_link_requested": (False, {"issue_number": 42}),
    "github_issue_number_changed": (False, {"from": None, "to": 42}),
    "github_issue_renamed": (False, {"from": "Export", "to": "Export is empty", "login": "oc"}),
    # A satisfaction rating is staff's (README, Satisfaction ratings): its submitter sees
    # their own rating on the ticket's page, not as an event.
    "rated": (False, {"rating": "bad", "previous": "good"}),
}


def test_every_kind_has_an_audience() -> None:
    assert sorted(SUBMITTER_SEES) == sorted(get_args(EventKind))


async def _until_reply(stream: EventReader, comment_id: str) -> list[dict[str, Any]]:
    """The ticket events ``stream`` sends up to the one of the reply ``comment_id``."""
    seen: list[dict[str, Any]] = []
    while not seen or seen[-1]["data"].get("comment_id") != comment_id:
        frame = await stream.next_event()
        if frame.event == "ticket":
            seen.append(json.loads(frame.data or ""))
    return seen


def _in_any_order(seen: list[str], *, created: bool = False) -> tuple[list[str], ...]:
    """``seen`` as the ticket's creation (when ``created``), the kinds recorded in one
    transaction, sorted (ids made in one millisecond are in no set order), and the reply."""
    first = 1 if created else 0
    return seen[:first], sorted(seen[first:-1]), seen[-1:]


async def _timeline(server: Server, who: Someone, ticket_id: str) -> list[str]:
    async with httpx.AsyncClient(base_url=f"{server.url}/api/v1", headers=who.headers) as c:
        response = await c.get(f"/tickets/{ticket_id}/events")
    assert response.status_code == 200
    return [event["kind"] for event in response.json()["items"]]


async def test_submitter_sees_what_concerns_them(
    server: Server, person: Person, conn: Connection
) -> None:
    agent = await person("agent", "Grace Agent")
    alice = await person("user", "Alice Submitter")
    kinds: list[EventKind] = list(get_args(EventKind))
    shown = [kind for kind in kinds if SUBMITTER_SEES[kind][0]]
    async with httpx.AsyncClient(base_url=f"{server.url}/api/v1") as client:
        created = await client.post("/tickets", json=ticket_body(), headers=alice.headers)
        ticket = created.json()

        async with (
            open_stream(server.url, agent.headers) as staff,
            open_stream(server.url, alice.headers) as submitter,
        ):
            for stream in (staff, submitter):
                assert (await stream.next()).retry == 3000
            async with conn.transaction():
                for kind in kinds:
                    change = Change(
                        uuid.UUID(ticket["id"]), kind, agent.user.id, SUBMITTER_SEES[kind][1]
                    )
                    await record_change(conn, change)
            # A public reply after them: what the submitter is shown ends with it.
            reply = await client.post(
                f"/tickets/{ticket['id']}/comments",
                json={"comment": "Any news?"},
                headers=alice.headers,
            )
            assert reply.status_code == 201
            staff_seen = await _until_reply(staff, reply.json()["id"])
            submitter_seen = await _until_reply(submitter, reply.json()["id"])

    assert _in_any_order([e["kind"] for e in staff_seen]) == ([], sorted(kinds), ["commented"])
    assert _in_any_order([e["kind"] for e in submitter_seen]) == ([], sorted(shown), ["commented"])
    assert _in_any_order(await _timeline(server, agent, ticket["id"]), created=True) == (
        ["created"],
        sorted(kinds),
        ["commented"],
    )
    assert _in_any_order(await _timeline(server, alice, ticket["id"]), created=True) == (
        ["created"],
        sorted(shown),
        ["commented"],
    )
