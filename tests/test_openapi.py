"""The OpenAPI document: committed, stable, and honest about errors.

When a route changes on purpose, regenerate the committed copy with
``.venv/bin/ticketdesk openapi > openapi.json`` and commit it with the change.
"""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from ticketdesk.app import create_app
from ticketdesk.config import load_settings

COMMITTED = Path(__file__).parent.parent / "openapi.json"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The document the app serves, built once: describing the routes needs no database."""
    settings = load_settings(data_dir=tmp_path_factory.mktemp("openapi"))
    return create_app(settings).openapi()


async def test_served_document_is_the_committed_one(anon: AsyncClient) -> None:
    response = await anon.get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response.json() == json.loads(COMMITTED.read_text(encoding="utf-8")), (
        "the API changed: run `.venv/bin/ticketdesk openapi > openapi.json` and commit it"
    )


def test_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "ticketdesk"


def test_every_operation_has_a_stable_id(document: dict[str, Any]) -> None:
    ids = {name: operation.get("operationId", "") for name, operation in _operations(document)}

    assert [name for name, op_id in ids.items() if not op_id] == []
    # Chosen by hand, not derived from function and path names.
    assert [op_id for op_id in ids.values() if not re.fullmatch(r"[a-z][A-Za-z]+", op_id)] == []
    assert len(set(ids.values())) == len(ids)


def test_every_operation_is_described(document: dict[str, Any]) -> None:
    undocumented = [
        name for name, operation in _operations(document) if not operation.get("description")
    ]

    assert undocumented == []


def test_every_operation_declares_its_errors(document: dict[str, Any]) -> None:
    missing = []
    for name, operation in _operations(document):
        declared = set(operation["responses"])
        needed = set()
        if operation.get("security"):
            needed.add("401")
            if not name.startswith("GET "):
                needed.add("403")  # a cookie-authenticated call without its CSRF token
        if any(p["in"] == "path" for p in operation.get("parameters", [])):
            needed.add("404")
        if operation.get("parameters") or operation.get("requestBody"):
            needed.add("422")
        missing += [f"{name} {status}" for status in sorted(needed - declared)]

    assert missing == []


def test_errors_are_problem_documents(document: dict[str, Any]) -> None:
    wrong = [
        f"{name} {status}"
        for name, operation in _operations(document)
        for status, response in operation["responses"].items()
        if status[0] in "45"
        and response.get("content", {}).get("application/problem+json", {}).get("schema") != PROBLEM
    ]

    assert wrong == []
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_a_rate_limited_answer_says_when_to_come_back(document: dict[str, Any]) -> None:
    limited = [
        operation["responses"]["429"]
        for _, operation in _operations(document)
        if "429" in operation["responses"]
    ]

    assert len(limited) >= 6
    for response in limited:
        assert response["headers"]["Retry-After"]["schema"]["type"] == "integer"


def test_the_seeds_routes_are_kept(document: dict[str, Any]) -> None:
    operations = {name for name, _ in _operations(document)}

    assert {
        "POST /api/v1/tickets",
        "GET /api/v1/tickets",
        "GET /api/v1/tickets/{id}",
        "PUT /api/v1/tickets/{id}",
        "DELETE /api/v1/tickets/{id}/close",
        "POST /api/v1/tickets/{id}/comments",
        "GET /api/v1/tickets/{id}/comments",
        "PUT /api/v1/tickets/{id}/assign",
    } <= operations


def test_event_stream_frames_by_event(document: dict[str, Any]) -> None:
    content = document["paths"]["/api/v1/events/stream"]["get"]["responses"]["200"]["content"]
    frames = content["text/event-stream"]["itemSchema"]["oneOf"]
    schemas = document["components"]["schemas"]

    data_by_event = {
        frame["properties"]["event"]["const"]: frame["properties"]["data"]["contentSchema"]["$ref"]
        for frame in frames
    }
    with_id = [
        frame["properties"]["event"]["const"] for frame in frames if "id" in frame["required"]
    ]

    assert data_by_event == {
        "ticket": "#/components/schemas/LiveEvent",
        "presence": "#/components/schemas/LivePresence",
        "github": "#/components/schemas/LiveGitHub",
        "reset": "#/components/schemas/LiveReset",
    }
    assert with_id == ["ticket"]
    assert schemas["LiveReset"]["properties"]["reason"]["enum"] == [
        "unknown_last_event_id",
        "too_many_missed",
        "too_slow",
    ]
    assert content["text/event-stream"]["schema"] == {"type": "string"}
