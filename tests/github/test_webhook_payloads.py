"""Signed deliveries GitHub would never send: each refused with a 422, kept as rejected,
and nothing else changed.

Every payload is one of GitHub's own (tests/fixtures/github/webhooks/) with one field
spoiled, signed with the webhook secret, about the issue a ticket here is linked to.
"""

import json
import uuid
from typing import Any

import pytest
from httpx import AsyncClient

from tests.factories import Accounts
from tests.fakes.github import FakeGitHub
from tests.github.support import (
    deliver,
    fixture_bytes,
    fixture_json,
    github_settings,
    link_to_payload_issue,
    outcome,
)
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.github.webhook import parse_payload

RAW = "__raw_json__"


class Raw(str):
    """JSON text to put in a payload verbatim."""


def spoiled(name: str, path: str, value: object) -> bytes:
    """The fixture ``name`` with the field at dotted ``path`` set to ``value``; a ``str``
    wrapped in ``Raw`` goes into the JSON text as it is (``1e999``, ``NaN``)."""
    payload = fixture_json(name)
    *parents, last = path.split(".")
    target = payload
    for part in parents:
        target = target[part]
    target[last] = RAW if isinstance(value, Raw) else value
    text = json.dumps(payload)
    return (text.replace(f'"{RAW}"', value) if isinstance(value, Raw) else text).encode()


COMMENT = "issue_comment/created"
# (event, body, the field the problem names)
SPOILED: dict[str, tuple[str, bytes, str | None]] = {
    "comment id 1e999": (
        "issue_comment",
        spoiled(COMMENT, "comment.id", Raw("1e999")),
        "comment.id",
    ),
    "issue number 1e999": (
        "issue_comment",
        spoiled(COMMENT, "issue.number", Raw("1e999")),
        "issue.number",
    ),
    "comment id NaN": ("issue_comment", spoiled(COMMENT, "comment.id", Raw("NaN")), None),
    "comment id over bigint": (
        "issue_comment",
        spoiled(COMMENT, "comment.id", 2**63),
        "comment.id",
    ),
    "issue number over integer": (
        "issue_comment",
        spoiled(COMMENT, "issue.number", 2**31),
        "issue.number",
    ),
    "comment id of 5,000 digits": (
        "issue_comment",
        spoiled(COMMENT, "comment.id", Raw("9" * 5000)),
        None,
    ),
    "comment id zero": ("issue_comment", spoiled(COMMENT, "comment.id", 0), "comment.id"),
    "comment id negative": ("issue_comment", spoiled(COMMENT, "comment.id", -7), "comment.id"),
    "issue number negative": (
        "issue_comment",
        spoiled(COMMENT, "issue.number", -1),
        "issue.number",
    ),
    "comment id a string": (
        "issue_comment",
        spoiled(COMMENT, "comment.id", "492700400"),
        "comment.id",
    ),
    "comment id a fraction": ("issue_comment", spoiled(COMMENT, "comment.id", 1.5), "comment.id"),
    "issue number a boolean": (
        "issue_comment",
        spoiled(COMMENT, "issue.number", True),
        "issue.number",
    ),
    "comment body a lone surrogate": (
        "issue_comment",
        spoiled(COMMENT, "comment.body", "Thanks \ud800"),
        "comment.body",
    ),
    "comment body with NUL": (
        "issue_comment",
        spoiled(COMMENT, "comment.body", "Thanks \x00"),
        "comment.body",
    ),
    "login a lone surrogate": (
        "issue_comment",
        spoiled(COMMENT, "comment.user.login", "\udfff"),
        "comment.user.login",
    ),
    "login a number": (
        "issue_comment",
        spoiled(COMMENT, "comment.user.login", 42),
        "comment.user.login",
    ),
    "title a lone surrogate": (
        "issues",
        spoiled("issues/edited", "issue.title", "Renamed \ud800"),
        "issue.title",
    ),
    "comment null": ("issue_comment", spoiled(COMMENT, "comment", None), "comment"),
    "repository a string": (
        "issue_comment",
        spoiled(COMMENT, "repository", "Codertocat/Hello-World"),
        "repository",
    ),
    "issue missing its number": (
        "issues",
        json.dumps(
            {**fixture_json("issues/reopened"), "issue": {"title": "Spelling error"}}
        ).encode(),
        "issue.number",
    ),
    "comment body too long": (
        "issue_comment",
        spoiled(COMMENT, "comment.body", "x" * (4 * 65536 + 1)),
        "comment.body",
    ),
    "nested 100,000 deep": (
        "issue_comment",
        fixture_bytes(COMMENT)[:-2] + b', "deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
        None,
    ),
    "not UTF-8": (
        "issue_comment",
        fixture_bytes(COMMENT).replace(b"You are totally right!", b"Caf\xe9 \xff"),
        None,
    ),
    "a JSON array": ("issue_comment", b"[" + fixture_bytes(COMMENT) + b"]", None),
    "a JSON string": ("issue_comment", b'"created"', None),
    "JSON null": ("ping", b"null", None),
}


@pytest.fixture
def settings_overrides(gh: FakeGitHub) -> dict[str, Any]:
    """Issues are linked by hand here, never created."""
    return github_settings(gh, auto_create_issues=False)


async def state(conn: Connection) -> dict[str, Any]:
    """What a delivery could have changed, apart from its own record."""
    rows: dict[str, Any] = {}
    for table in ("tickets", "comments", "ticket_events", "github_links"):
        cur = await conn.execute(f"select to_jsonb(t) as row from {table} t")  # noqa: S608
        rows[table] = sorted(json.dumps(r["row"], sort_keys=True) for r in await cur.fetchall())
    return rows


async def delivery(conn: Connection, delivery_id: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "select event, action, outcome from github_deliveries where delivery_id = %s",
        (delivery_id,),
    )
    return await cur.fetchone()


@pytest.mark.parametrize("case", list(SPOILED))
async def test_refused_and_recorded(
    case: str, anon: AsyncClient, conn: Connection, accounts: Accounts, settings: Settings
) -> None:
    event, body, field = SPOILED[case]
    await link_to_payload_issue(conn, accounts, settings)
    before = await state(conn)
    delivery_id = str(uuid.uuid4())

    response = await deliver(anon, event, body, delivery=delivery_id)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "bad_payload"
    assert problem.get("field") == field
    recorded = await delivery(conn, delivery_id)
    assert recorded is not None
    assert (recorded["event"], recorded["outcome"]) == (event, "rejected")
    assert await state(conn) == before


async def test_action_kept_when_readable(
    anon: AsyncClient, conn: Connection, accounts: Accounts, settings: Settings
) -> None:
    await link_to_payload_issue(conn, accounts, settings)
    readable = spoiled(COMMENT, "comment.id", Raw("1e999"))
    unreadable = spoiled(COMMENT, "action", "created\ud800")

    await deliver(anon, "issue_comment", readable, delivery="readable")
    await deliver(anon, "issue_comment", unreadable, delivery="unreadable")

    assert await delivery(conn, "readable") == {
        "event": "issue_comment",
        "action": "created",
        "outcome": "rejected",
    }
    assert await delivery(conn, "unreadable") == {
        "event": "issue_comment",
        "action": None,
        "outcome": "rejected",
    }


async def test_redelivery_of_a_rejected_delivery_is_applied(
    anon: AsyncClient, conn: Connection, accounts: Accounts, settings: Settings
) -> None:
    # Refused once (say the payload was mangled on the way), delivered again whole.
    ticket = await link_to_payload_issue(conn, accounts, settings)
    mangled = spoiled(COMMENT, "comment.body", "\ud800")

    refused = await deliver(anon, "issue_comment", mangled, delivery="again")
    applied = await deliver(anon, "issue_comment", fixture_bytes(COMMENT), delivery="again")
    replayed = await deliver(anon, "issue_comment", mangled, delivery="again")

    assert refused.status_code == 422
    assert outcome(applied) == "applied"
    assert replayed.status_code == 422
    assert await delivery(conn, "again") == {
        "event": "issue_comment",
        "action": "created",
        "outcome": "applied",
    }
    detail = await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}")
    assert [c["body"] for c in detail.json()["comments"]] == [
        "You are totally right! I'll get this fixed right away."
    ]


async def test_long_texts_within_the_margin_are_taken(
    anon: AsyncClient, conn: Connection, accounts: Accounts, settings: Settings
) -> None:
    # A comment past GitHub's own 65,536 characters (counted another way there), on an
    # issue whose body is longer still and holds what PostgreSQL could not store: the
    # issue's body is not stored, so it does not matter.
    ticket = await link_to_payload_issue(conn, accounts, settings)
    payload = fixture_json(COMMENT)
    payload["comment"]["body"] = "é" * 70_000
    payload["issue"]["body"] = "legacy \x00 \ud800 " + "x" * 300_000

    applied = await deliver(anon, "issue_comment", json.dumps(payload).encode())

    assert outcome(applied) == "applied"
    detail = await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}")
    assert [c["body"] for c in detail.json()["comments"]] == ["é" * 70_000]


def test_every_fixture_passes() -> None:
    # The models refuse what GitHub would never send, and nothing GitHub does send.
    for name, event in [
        ("ping", "ping"),
        *[
            (f"issues/{a}", "issues")
            for a in ("opened", "edited", "reopened", "labeled", "assigned", "deleted")
        ],
        *[(f"issue_comment/{a}", "issue_comment") for a in ("created", "edited", "deleted")],
    ]:
        parse_payload(event, fixture_bytes(name))
