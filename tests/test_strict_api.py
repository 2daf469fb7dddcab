"""The API reads requests strictly and answers only what its description promises."""

import typing
from collections.abc import Iterator

from httpx import AsyncClient
from pydantic import Strict

import ticketdesk.app  # noqa: F401 (imports every domain's request schemas)
from tests.factories import Accounts
from ticketdesk.validation import RequestModel

PROBLEM_JSON = "application/problem+json"
TICKET = {
    "type": "bug",
    "priority": "low",
    "title": "The export button does nothing",
    "description": "Pressing Export on the reports page shows no file and no error.",
}


class TestMethods:
    async def test_get_on_a_post_only_route_is_405_naming_post(self, anon: AsyncClient) -> None:
        response = await anon.get("/api/v1/auth/login")

        assert response.status_code == 405
        assert response.headers["Allow"] == "POST"
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json()["code"] == "method_not_allowed"

    async def test_allow_lists_every_method_of_the_path(self, anon: AsyncClient) -> None:
        response = await anon.delete("/api/v1/tickets")

        assert response.status_code == 405
        assert response.headers["Allow"] == "GET, POST"

    async def test_a_named_path_is_not_taken_for_an_id(self, accounts: Accounts) -> None:
        # /tickets/{id} and /users/{user_id} would take these paths with these methods.
        bulk = await accounts.agent.client.get("/api/v1/tickets/bulk")
        invitations = await accounts.admin.client.patch("/api/v1/users/invitations", json={})

        assert (bulk.status_code, bulk.headers["Allow"]) == (405, "POST")
        assert (invitations.status_code, invitations.headers["Allow"]) == (405, "POST")

    async def test_a_path_that_does_not_exist_is_still_404(self, anon: AsyncClient) -> None:
        response = await anon.get("/api/v1/no-such-thing")

        assert response.status_code == 404


class TestStrictBodies:
    async def test_an_unknown_field_is_named_and_nothing_is_created(
        self, accounts: Accounts
    ) -> None:
        client = accounts.alice.client

        response = await client.post("/api/v1/tickets", json={**TICKET, "labels": ["ui"]})
        listed = await client.get("/api/v1/tickets")

        assert response.status_code == 422
        assert response.json()["field"] == "labels"
        assert response.json()["errors"][0]["code"] == "extra_forbidden"
        assert listed.json()["items"] == []

    async def test_a_number_is_not_a_boolean(self, accounts: Accounts) -> None:
        response = await accounts.admin.client.patch(
            f"/api/v1/users/{accounts.bob.user.id}", json={"is_active": 0}
        )
        listed = await accounts.admin.client.get("/api/v1/users")
        bob = next(u for u in listed.json()["items"] if u["id"] == str(accounts.bob.user.id))

        assert response.status_code == 422
        assert response.json()["field"] == "is_active"
        assert bob["is_active"] is True

    async def test_a_body_that_is_not_json_is_a_422_problem(self, accounts: Accounts) -> None:
        response = await accounts.alice.client.post(
            "/api/v1/tickets",
            content=b"\xff\xfe not json",
            headers={"Content-Type": "application/json"},
        )

        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json()["field"] == "body"


class TestStrictQueries:
    async def test_a_limit_with_a_control_character_is_refused(self, accounts: Accounts) -> None:
        response = await accounts.agent.client.get("/api/v1/tickets?limit=%0C2")

        assert response.status_code == 422
        assert response.json()["field"] == "limit"

    async def test_a_boolean_filter_takes_only_true_or_false(self, accounts: Accounts) -> None:
        refused = await accounts.agent.client.get("/api/v1/tickets?customer_replied=1")
        taken = await accounts.agent.client.get("/api/v1/tickets?customer_replied=false")

        assert refused.status_code == 422
        assert refused.json()["field"] == "customer_replied"
        assert taken.status_code == 200


class TestOneName:
    async def test_a_comment_is_written_and_read_as_comment(self, accounts: Accounts) -> None:
        ticket = (await accounts.alice.client.post("/api/v1/tickets", json=TICKET)).json()
        url = f"/api/v1/tickets/{ticket['id']}/comments"

        written = await accounts.alice.client.post(url, json={"comment": "It fails on Linux."})
        by_old_name = await accounts.alice.client.post(url, json={"body": "And on Windows."})
        listed = await accounts.alice.client.get(url)

        assert written.status_code == 201
        # body is the former name of the same text, still sent for older clients.
        assert (written.json()["comment"], written.json()["body"]) == ("It fails on Linux.",) * 2
        assert by_old_name.status_code == 422
        assert {e["field"] for e in by_old_name.json()["errors"]} == {"comment", "body"}
        assert [c["comment"] for c in listed.json()] == ["It fails on Linux."]


def _request_models(base: type[RequestModel] = RequestModel) -> Iterator[type[RequestModel]]:
    for model in base.__subclasses__():
        yield model
        yield from _request_models(model)


def _loose(annotation: object, metadata: typing.Sequence[object] = ()) -> list[object]:
    """The plain bool, int and float in ``annotation`` that are not marked strict."""
    if any(isinstance(m, Strict) for m in metadata):
        return []
    if typing.get_origin(annotation) is typing.Annotated:
        base, *more = typing.get_args(annotation)
        return _loose(base, more)
    if annotation in (bool, int, float):
        return [annotation]
    return [t for arg in typing.get_args(annotation) for t in _loose(arg)]


class TestRequestModels:
    def test_booleans_and_numbers_are_json_s_own(self) -> None:
        """RequestModel promises 0 is not false and "2" is not 2: each body field that
        holds a boolean or a number says so with StrictBool or StrictInt."""
        loose = {
            f"{model.__name__}.{name}": _loose(field.annotation, field.metadata)
            for model in _request_models()
            for name, field in model.model_fields.items()
        }

        assert len(loose) > 50
        assert {field: kinds for field, kinds in loose.items() if kinds} == {}
