"""What every response has in common: request ids, problem documents, health checks."""

from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from tests.factories import Accounts
from ticketdesk.app import create_app
from ticketdesk.config import Settings
from ticketdesk.errors import install_error_handlers
from ticketdesk.spa import mount_spa

PROBLEM_JSON = "application/problem+json"


class TestRequestId:
    async def test_generated_when_not_sent(self, anon: AsyncClient) -> None:
        first = await anon.get("/healthz")
        second = await anon.get("/healthz")

        assert len(first.headers["X-Request-ID"]) >= 8
        assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]

    async def test_echoed_when_well_formed(self, anon: AsyncClient) -> None:
        response = await anon.get("/healthz", headers={"X-Request-ID": "edge-proxy-1234abcd"})

        assert response.headers["X-Request-ID"] == "edge-proxy-1234abcd"

    async def test_replaced_when_malformed(self, anon: AsyncClient) -> None:
        sent = "<script>alert(1)</script>"
        response = await anon.get("/healthz", headers={"X-Request-ID": sent})

        assert response.headers["X-Request-ID"] != sent
        assert len(response.headers["X-Request-ID"]) >= 8

    async def test_on_errors_and_in_the_problem(self, anon: AsyncClient) -> None:
        response = await anon.get("/api/v1/me")

        assert response.status_code == 401
        assert response.json()["request_id"] == response.headers["X-Request-ID"]

    async def test_security_headers(self, anon: AsyncClient) -> None:
        response = await anon.get("/")

        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


class TestProblemDocuments:
    async def test_unknown_route(self, anon: AsyncClient) -> None:
        response = await anon.get("/api/v1/no-such-thing")

        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM_JSON
        problem = response.json()
        assert problem["status"] == 404
        assert problem["code"] == "not_found"
        assert problem["type"] == "https://ticketdesk.dev/problems/not-found"
        assert problem["title"]
        assert problem["detail"]

    async def test_wrong_method(self, anon: AsyncClient) -> None:
        response = await anon.patch("/api/v1/tickets")

        assert response.status_code == 405
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json()["code"] == "method_not_allowed"

    async def test_validation_error_names_the_field(self, accounts: Accounts) -> None:
        response = await accounts.alice.client.post(
            "/api/v1/tickets",
            json={"type": "bug", "title": "Short", "description": "x" * 40},
        )

        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM_JSON
        problem = response.json()
        assert problem["code"] == "invalid_input"
        assert problem["field"] == "title"
        assert problem["errors"][0]["field"] == "title"

    async def test_body_that_is_not_json(self, accounts: Accounts) -> None:
        response = await accounts.alice.client.post(
            "/api/v1/tickets",
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        )

        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM_JSON

    async def test_unexpected_error_reveals_nothing(self, settings: Settings) -> None:
        application = create_app(settings)

        # POST: a GET would be answered by the web app's catch-all route first.
        @application.post("/boom")
        async def boom() -> None:
            raise RuntimeError("password=hunter2 at /srv/secret.py line 12")

        transport = ASGITransport(app=application, raise_app_exceptions=False)
        async with (
            application.router.lifespan_context(application),
            AsyncClient(transport=transport, base_url="http://testserver") as client,
        ):
            response = await client.post("/boom")

        assert response.status_code == 500
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json()["code"] == "internal"
        assert "hunter2" not in response.text
        assert "secret.py" not in response.text


class TestHealth:
    async def test_healthz(self, anon: AsyncClient) -> None:
        response = await anon.get("/healthz")

        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    async def test_readyz(self, anon: AsyncClient) -> None:
        response = await anon.get("/readyz")

        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    async def test_readyz_without_database(self, app: FastAPI, anon: AsyncClient) -> None:
        await app.state.pool.close()

        response = await anon.get("/readyz")

        assert response.status_code == 503
        assert response.json() == {"status": "unavailable"}


class TestWebApp:
    @pytest.fixture
    def web(self, tmp_path: Path) -> AsyncClient:
        dist = tmp_path / "dist"
        (dist / "_app" / "immutable").mkdir(parents=True)
        (dist / "index.html").write_text("<!doctype html><title>ticketdesk app</title>")
        (dist / "_app" / "immutable" / "start.js").write_text("console.log(1)")
        (tmp_path / "secret.txt").write_text("not for the web")
        application = FastAPI()
        install_error_handlers(application)
        assert mount_spa(application, dist)
        return AsyncClient(transport=ASGITransport(app=application), base_url="http://t")

    async def test_client_routes_get_the_app(self, web: AsyncClient) -> None:
        for path in ("/", "/tickets/12", "/triage/board"):
            response = await web.get(path)
            assert response.status_code == 200
            assert "ticketdesk app" in response.text
            assert response.headers["cache-control"] == "no-cache"
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]

    async def test_bundles_are_cached_for_good(self, web: AsyncClient) -> None:
        response = await web.get("/_app/immutable/start.js")

        assert response.text == "console.log(1)"
        assert "immutable" in response.headers["cache-control"]

    async def test_unknown_api_paths_stay_problems(self, web: AsyncClient) -> None:
        response = await web.get("/api/v1/nothing-here")

        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM_JSON

    async def test_files_outside_the_app_are_not_served(self, web: AsyncClient) -> None:
        response = await web.get("/..%2fsecret.txt")

        assert "not for the web" not in response.text

    def test_without_a_build_there_is_a_landing_page(self, tmp_path: Path) -> None:
        assert mount_spa(FastAPI(), tmp_path / "nothing") is False


class TestLanding:
    async def test_docs_are_served(self, anon: AsyncClient) -> None:
        response = await anon.get("/api/v1/docs")

        assert response.status_code == 200
        assert "/api/v1/openapi.json" in response.text
