"""What every response has in common: request ids, problem documents, health checks."""

import hashlib
import re
from base64 import b64encode
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from tests.factories import Accounts
from ticketdesk.api_docs import mount_api_docs
from ticketdesk.app import create_app
from ticketdesk.config import Settings
from ticketdesk.db import Transaction
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
        async with _app_with_a_failing_route(settings) as client:
            response = await client.post("/api/v1/boom")

        assert response.status_code == 500
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json()["code"] == "internal"
        assert "hunter2" not in response.text
        assert "secret.py" not in response.text

    async def test_connection_lost_is_busy(self, settings: Settings) -> None:
        async with _app_with_a_failing_route(settings) as client:
            response = await client.post("/api/v1/lost")

        assert response.status_code == 503
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.headers["Retry-After"] == "2"
        assert response.json()["code"] == "busy"

    async def test_database_error_from_a_bug_is_not_busy(self, settings: Settings) -> None:
        # An OperationalError too, but retrying cannot help: a 500, not a 503 to retry.
        async with _app_with_a_failing_route(settings) as client:
            response = await client.post("/api/v1/misused")

        assert response.status_code == 500
        assert response.json()["code"] == "internal"
        assert "Retry-After" not in response.headers


@asynccontextmanager
async def _app_with_a_failing_route(settings: Settings) -> AsyncIterator[AsyncClient]:
    """A client of an app that has, besides its own routes, one that raises."""
    application = create_app(settings)

    # POST: a GET would be answered by the web app's catch-all route first.
    @application.post("/api/v1/boom")
    async def boom() -> None:
        raise RuntimeError("password=hunter2 at /srv/secret.py line 12")

    @application.post("/api/v1/lost")
    async def lost(conn: Transaction) -> None:
        await conn.execute("select pg_terminate_backend(pg_backend_pid())")

    @application.post("/api/v1/misused")
    async def misused(conn: Transaction) -> None:
        await conn.execute("release savepoint never_made")

    transport = ASGITransport(app=application, raise_app_exceptions=False)
    async with (
        application.router.lifespan_context(application),
        AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        yield client


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
        (dist / "index.html").write_text(
            "<!doctype html><title>ticketdesk app</title><script>start()</script>"
        )
        (dist / "_app" / "immutable" / "start.js").write_text("console.log(1)")
        (tmp_path / "secret.txt").write_text("not for the web")
        application = FastAPI()
        install_error_handlers(application)
        assert mount_spa(application, dist)
        return AsyncClient(transport=ASGITransport(app=application), base_url="http://t")

    async def test_client_routes_get_the_app(self, web: AsyncClient) -> None:
        for path in ("/", "/index.html", "/tickets/12", "/triage/board"):
            response = await web.get(path)
            assert response.status_code == 200
            assert "ticketdesk app" in response.text
            assert response.headers["cache-control"] == "no-cache"
            policy = _policy(response.headers["content-security-policy"])
            assert policy["frame-ancestors"] == ["'none'"]
            assert policy["script-src"] == ["'self'", _sha256("start()")]

    async def test_shell_served_is_the_one_hashed(self, web: AsyncClient, tmp_path: Path) -> None:
        """A rebuild while the server runs does not serve a shell its own CSP refuses."""
        (tmp_path / "dist" / "index.html").write_text("<title>new</title><script>other()</script>")

        response = await web.get("/tickets/12")

        assert response.text.endswith("<script>start()</script>")
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        policy = _policy(response.headers["content-security-policy"])
        assert policy["script-src"] == ["'self'", _sha256("start()")]

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
        assert "validatorUrl: null," in response.text


def test_docs_without_swagger_ui_warn_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    mount_api_docs(FastAPI(), docs_url="/api/v1/docs", openapi_url="/o.json", assets=tmp_path)

    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        f"Swagger UI is missing from {tmp_path}, so /api/v1/docs will be blank: "
        "run `npm run build` in web/"
    ]


def _policy(header: str) -> dict[str, list[str]]:
    """A Content-Security-Policy header as directive → sources."""
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def _sha256(script: str) -> str:
    return f"'sha256-{b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_PAGES = ("/", "/index.html", "/tickets/12/attachments/deep/path", "/api/v1/docs")


class TestSecurityHeaders:
    """Every page of the built web app and the API docs, and every error, is protected."""

    @pytest.mark.parametrize("path", _PAGES)
    async def test_pages(self, anon: AsyncClient, path: str) -> None:
        response = await anon.get(path, headers={"X-Request-ID": "page-request-0001"})

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["X-Request-ID"] == "page-request-0001"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Cache-Control"] == "no-cache"
        assert "Strict-Transport-Security" not in response.headers
        policy = _policy(response.headers["Content-Security-Policy"])
        assert policy["frame-ancestors"] == ["'none'"]
        assert "'unsafe-inline'" not in policy["script-src"]
        assert "'unsafe-eval'" not in policy["script-src"]
        assert "'unsafe-inline'" not in policy["style-src"]
        assert all(
            source == "'self'" or source.startswith("'sha256-") for source in policy["script-src"]
        )
        # Each inline script the page has runs, by its hash, and only those do.
        inline = _INLINE_SCRIPT.findall(response.text)
        assert inline
        assert sorted(policy["script-src"][1:]) == sorted({_sha256(script) for script in inline})

    async def test_shell_is_the_same_at_every_path(self, anon: AsyncClient) -> None:
        responses = [await anon.get(path) for path in _PAGES[:3]]

        assert len({r.text for r in responses}) == 1
        assert len({r.headers["Content-Security-Policy"] for r in responses}) == 1

    async def test_docs_load_only_their_own_files(self, anon: AsyncClient) -> None:
        page = await anon.get("/api/v1/docs")
        urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)

        assert {url for url in urls if url.startswith("/api/v1/docs/")} == {
            "/api/v1/docs/swagger-ui.css",
            "/api/v1/docs/swagger-ui-bundle.js",
        }
        for url in urls:
            assert url.startswith("/"), url
            assert not url.startswith("//"), url
            response = await anon.get(url)
            assert response.status_code == 200, url
            assert response.headers["X-Content-Type-Options"] == "nosniff"
        bundle = await anon.get("/api/v1/docs/swagger-ui-bundle.js")
        assert bundle.headers["content-type"].startswith("text/javascript")
        assert "SwaggerUIBundle" in bundle.text
        css = await anon.get("/api/v1/docs/swagger-ui.css")
        assert css.headers["content-type"].startswith("text/css")

    async def test_docs_serve_no_other_file(self, anon: AsyncClient) -> None:
        for name in ("LICENSE", "..%2f..%2findex.html", "swagger-ui-bundle.js.map"):
            response = await anon.get(f"/api/v1/docs/{name}")
            assert response.status_code == 404
            assert response.headers["content-type"] == PROBLEM_JSON

    async def test_api_responses(self, anon: AsyncClient) -> None:
        response = await anon.get("/api/v1/me")

        assert response.status_code == 401
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert _policy(response.headers["Content-Security-Policy"])["default-src"] == ["'none'"]

    async def test_unhandled_error(self, settings: Settings) -> None:
        async with _app_with_a_failing_route(settings) as client:
            response = await client.post("/api/v1/boom", headers={"X-Request-ID": "boom-0000001"})

        assert response.status_code == 500
        assert response.headers["X-Request-ID"] == "boom-0000001"
        assert response.json()["request_id"] == "boom-0000001"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Frame-Options"] == "DENY"

    async def test_body_refused_before_the_app(self, anon: AsyncClient) -> None:
        response = await anon.post(
            "/api/v1/auth/login",
            content=b"x" * (1024 * 1024 + 1),
            headers={"Content-Type": "application/json"},
        )

        assert response.status_code == 413
        assert len(response.headers["X-Request-ID"]) >= 8
        assert response.headers["Cache-Control"] == "no-store"


class TestStrictTransportSecurity:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"base_url": "https://support.example.com"}

    @pytest.mark.parametrize("path", ["/", "/index.html", "/api/v1/docs", "/api/v1/me"])
    async def test_sent_behind_https(self, anon: AsyncClient, path: str) -> None:
        response = await anon.get(path)

        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"

    async def test_on_errors_too(self, settings: Settings) -> None:
        async with _app_with_a_failing_route(settings) as client:
            response = await client.post("/api/v1/boom")

        assert response.status_code == 500
        assert "max-age=" in response.headers["Strict-Transport-Security"]
