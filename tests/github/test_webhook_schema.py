"""The payload models against GitHub's own description of its webhooks
(tests/fixtures/github/webhooks-issues-openapi.json), and deliveries the fixtures lack,
built from them, checked against that description and then sent.
"""

import json
import types
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from httpx import AsyncClient
from openapi_schema_validator import OAS30Validator
from pydantic import BaseModel

from tests.factories import Accounts
from tests.fakes.github import FIXTURES, FakeGitHub
from tests.github.support import (
    deliver,
    fixture_json,
    github_settings,
    link_to_payload_issue,
    outcome,
)
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.github.schemas import IssueCommentPayload, IssuesPayload, PingPayload

Schema = dict[str, Any]

# Every delivery the description has, and the model that reads it.
MODELS: dict[str, type[BaseModel]] = {
    "ping": PingPayload,
    **{
        f"issues-{action}": IssuesPayload
        for action in (
            "opened",
            "edited",
            "closed",
            "reopened",
            "labeled",
            "unlabeled",
            "assigned",
            "unassigned",
            "deleted",
        )
    },
    **{
        f"issue-comment-{action}": IssueCommentPayload
        for action in ("created", "edited", "deleted")
    },
}


@cache
def _document() -> Schema:
    document: Schema = json.loads((FIXTURES / "webhooks-issues-openapi.json").read_text())
    return document


def _payload_schema(webhook: str) -> Schema:
    request = _document()["x-webhooks"][webhook]["post"]["requestBody"]
    schema: Schema = request["content"]["application/json"]["schema"]
    return schema


def _resolve(schema: Schema) -> Schema:
    while "$ref" in schema:
        *_, name = schema["$ref"].split("/")
        schema = _document()["components"]["schemas"][name]
    return schema


def _branches(schema: Schema) -> list[Schema]:
    """The schema and what its allOf, anyOf and oneOf hold, resolved."""
    schema = _resolve(schema)
    found = [schema]
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key, []):
            found += _branches(part)
    return found


def _property(schema: Schema, name: str) -> tuple[list[Schema], bool]:
    """What the description says of property ``name``: its schemas, and whether it is
    required."""
    branches = _branches(schema)
    described = [
        _resolve(b["properties"][name]) for b in branches if name in b.get("properties", {})
    ]
    required = any(name in b.get("required", []) for b in branches)
    return described, required


def _allows_null(schema: Schema) -> bool:
    schema = _resolve(schema)
    if schema.get("nullable"):
        return True
    if "allOf" in schema:
        return all(_allows_null(part) for part in schema["allOf"])
    return any(_allows_null(part) for key in ("anyOf", "oneOf") for part in schema.get(key, []))


def _nullable(described: list[Schema]) -> bool:
    # Every schema given for the value (one an allOf branch) must let null through.
    return all(_allows_null(s) for s in described)


def _json_type(described: list[Schema]) -> str | None:
    types_ = {b["type"] for s in described for b in _branches(s) if "type" in b}
    assert len(types_) <= 1, types_
    return types_.pop() if types_ else None


def _unwrap(annotation: Any) -> tuple[set[Any], bool]:
    """The types a field's annotation takes, and whether None is one of them."""
    if get_origin(annotation) is Annotated:
        return _unwrap(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        found: set[Any] = set()
        nullable = False
        for arg in get_args(annotation):
            inner, inner_nullable = _unwrap(arg)
            found |= inner
            nullable |= inner_nullable
        return found, nullable
    if annotation is type(None):
        return set(), True
    return {annotation}, False


JSON_TYPES = {"integer": int, "string": str}


def _mismatches(model: type[BaseModel], schema: Schema, path: str) -> list[str]:
    """Where ``model`` would refuse something ``schema`` allows, field by field."""
    found = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        where = f"{path}{key}"
        described, required = _property(schema, key)
        kinds, accepts_null = _unwrap(field.annotation)
        if not described:
            if field.is_required():
                found.append(f"{where}: required, but not described")
            continue
        if field.is_required() and not required:
            found.append(f"{where}: required, but GitHub may leave it out")
        if _nullable(described) and not accepts_null:
            found.append(f"{where}: GitHub may send null")
        models = [k for k in kinds if isinstance(k, type) and issubclass(k, BaseModel)]
        json_type = _json_type(described)
        if models:
            if json_type not in (None, "object"):
                found.append(f"{where}: an object here, {json_type} there")
            for nested in models:
                for part in described:
                    found += _mismatches(nested, part, f"{where}.")
        elif json_type is not None and JSON_TYPES.get(json_type) not in kinds:
            found.append(f"{where}: {kinds} here, {json_type} there")
    return found


@pytest.mark.parametrize("webhook", list(MODELS))
def test_the_models_take_whatever_github_describes(webhook: str) -> None:
    # Every field read: if GitHub's description lets it be null, left out or of a type,
    # so does the model.
    assert _mismatches(MODELS[webhook], _payload_schema(webhook), "") == []


def _valid(webhook: str, payload: dict[str, Any]) -> bool:
    # The description's own $refs ("#/components/...") resolve against this root.
    root = {**_payload_schema(webhook), "components": _document()["components"]}
    valid: bool = OAS30Validator(root).is_valid(payload)
    return valid


def closed(state_reason: str | None) -> dict[str, Any]:
    """``issues`` ``closed``, which the fixtures lack, built from ``reopened``."""
    payload = fixture_json("issues/reopened")
    payload["action"] = "closed"
    payload["issue"].update(
        state="closed", state_reason=state_reason, closed_at="2019-05-15T15:30:00Z"
    )
    return payload


def comment_without_author(action: str) -> dict[str, Any]:
    """An ``issue_comment`` whose author GitHub no longer knows."""
    payload = fixture_json(f"issue_comment/{action}")
    payload["comment"]["user"] = None
    return payload


# (webhook, payload, outcome, the ticket's status after it)
BUILT: dict[str, tuple[str, dict[str, Any], str, str]] = {
    "closed, no reason": ("issues-closed", closed(None), "applied", "resolved"),
    "closed as completed": ("issues-closed", closed("completed"), "applied", "resolved"),
    "closed as not planned": ("issues-closed", closed("not_planned"), "applied", "closed"),
    "closed as a duplicate": ("issues-closed", closed("duplicate"), "applied", "resolved"),
    "comment without author created": (
        "issue-comment-created",
        comment_without_author("created"),
        "applied",
        "open",
    ),
    # Never seen here: taken as new.
    "comment without author edited": (
        "issue-comment-edited",
        comment_without_author("edited"),
        "applied",
        "open",
    ),
    # Never seen here: nothing to delete.
    "comment without author deleted": (
        "issue-comment-deleted",
        comment_without_author("deleted"),
        "ignored",
        "open",
    ),
}


@pytest.fixture
def settings_overrides(gh: FakeGitHub) -> dict[str, Any]:
    """Issues are linked by hand here, never created."""
    return github_settings(gh, auto_create_issues=False)


@pytest.mark.parametrize("case", list(BUILT))
async def test_built_deliveries(
    case: str, anon: AsyncClient, conn: Connection, accounts: Accounts, settings: Settings
) -> None:
    webhook, payload, expected, status = BUILT[case]
    ticket = await link_to_payload_issue(conn, accounts, settings)
    assert _valid(webhook, payload)

    response = await deliver(
        anon, "issues" if webhook.startswith("issues-") else "issue_comment", payload
    )

    assert outcome(response) == expected
    detail = await accounts.agent.client.get(f"/api/v1/tickets/{ticket.id}")
    assert detail.json()["status"] == status
