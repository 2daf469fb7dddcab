"""End-to-end fixtures: the real server on a port, the built web app, Debian's Chromium.

The server runs uvicorn in a thread against the test's database; the browser is
``/usr/bin/chromium`` driven by Playwright (never a downloaded browser).

Playwright's sync API keeps its own asyncio loop running in the main thread while the
browser is open, so nothing here may run a coroutine there: database work goes through
``run_async`` (a worker thread), and the browser lives only as long as this package's
tests, so the async tests collected after it still get a free main thread.
"""

import asyncio
import re
import socket
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright
from psycopg.rows import dict_row

from tests.e2e.backlog import Backlog, seed_backlog
from tests.servers import serving
from ticketdesk.app import create_app
from ticketdesk.auth.service import create_token
from ticketdesk.config import Settings
from ticketdesk.spa import DIST
from ticketdesk.users.schemas import Role
from ticketdesk.users.service import create_user

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).parent.parent.parent / "docs" / "screenshots"
# axe-core's engine, as npm installs it for the web app's dev dependencies.
AXE = Path(__file__).parent.parent.parent / "web" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")
PASSWORD = "e2e password 123"

T = TypeVar("T")

# An expectation waits as long as an action (page.set_default_timeout below): on a busy
# machine (the suite runs more workers than cores) a page can take longer than the 5 s
# Playwright's expect waits by default.
expect.set_options(timeout=10_000)


@dataclass(frozen=True)
class Login:
    """Someone the browser can sign in as, and whose token the API accepts."""

    id: str
    email: str
    name: str
    role: Role
    token: str


@dataclass(frozen=True)
class Cast:
    """The people of the end-to-end stories."""

    admin: Login
    agent: Login
    user: Login


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a thread of its own, away from Playwright's loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def make_login(database_url: str, email: str, name: str, role: Role) -> Login:
    """Create an account with the e2e password and a personal access token for it."""

    async def make() -> Login:
        async with await psycopg.AsyncConnection.connect(
            database_url, row_factory=dict_row, autocommit=True
        ) as conn:
            user = await create_user(
                conn, email=email, name=name, role=role, password=PASSWORD, internal_domains=()
            )
            token = await create_token(conn, user.id, "e2e")
        return Login(str(user.id), email, name, role, token.token)

    return run_async(make())


@pytest.fixture(scope="package")
def browser(session_db: str) -> Iterator[Browser]:
    """Debian's Chromium, headless, for this package's tests only.

    It asks for ``session_db`` so the async template is built before Playwright's
    loop starts running in the main thread.
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    if not (DIST / "index.html").exists():
        pytest.fail("the web app is not built: run scripts/bootstrap")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def live_socket() -> Iterator[socket.socket]:
    """The live server's socket, bound before anything else is made: no other process
    can take its port between choosing it and serving on it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


@pytest.fixture
def live_port(live_socket: socket.socket) -> int:
    """The port the live server listens on, known before the settings are made (so a
    module can point ``base_url``, and with it the links in mails, at the server)."""
    port: int = live_socket.getsockname()[1]
    return port


@pytest.fixture
def serve_jobs() -> bool:
    """Whether the live server runs background jobs; a module that needs them says so."""
    return False


@pytest.fixture
def live_server(settings: Settings, live_socket: socket.socket, serve_jobs: bool) -> Iterator[str]:
    """ticketdesk serving API and web app on a free port, until the test ends."""
    with serving(create_app(settings, worker=serve_jobs), live_socket) as url:
        yield url


@pytest.fixture
def cast(live_server: str, settings: Settings) -> Cast:
    """An admin, an agent and a submitter with accounts on the live server."""
    assert settings.database_url is not None
    return Cast(
        admin=make_login(settings.database_url, "ada@example.com", "Ada Lovelace", "admin"),
        agent=make_login(settings.database_url, "grace@example.com", "Grace Hopper", "agent"),
        user=make_login(settings.database_url, "alan@example.com", "Alan Turing", "user"),
    )


@pytest.fixture
def api(live_server: str) -> Iterator[Callable[[Login], httpx.Client]]:
    """An API client for a person, authenticated by their personal access token."""
    clients: list[httpx.Client] = []

    def client_for(login: Login) -> httpx.Client:
        client = httpx.Client(
            base_url=f"{live_server}/api/v1",
            headers={"Authorization": f"Bearer {login.token}"},
            timeout=10,
        )
        clients.append(client)
        return client

    yield client_for
    for client in clients:
        client.close()


@pytest.fixture
def backlog(api: Callable[[Login], httpx.Client], cast: Cast, settings: Settings) -> Backlog:
    """The help desk in use: labels, two agents, three submitters, tickets in every status."""
    database_url = settings.database_url
    assert database_url is not None
    return seed_backlog(
        api, cast, lambda email, name, role: make_login(database_url, email, name, role)
    )


@pytest.fixture
def console_errors() -> list[str]:
    """Errors the browser console printed during the test."""
    return []


@pytest.fixture
def expected_console_errors() -> list[re.Pattern[str]]:
    """Console errors a test provokes on purpose (the browser logs every refused request)."""
    return []


@pytest.fixture
def missing_page(expected_console_errors: list[re.Pattern[str]]) -> str:
    """A path with no page; SvelteKit logs each visit to one as a console error."""
    path = "/no-such-page"
    expected_console_errors.append(re.compile(f"Not found: {path}"))
    return path


def refused(status: int, path: str) -> re.Pattern[str]:
    """The console error Chromium prints for a request to ``path`` answered with ``status``."""
    return re.compile(rf"status of {status} .* \(\S*{re.escape(path)}\S*\)$")


@pytest.fixture
def new_page(
    browser: Browser,
    live_server: str,
    console_errors: list[str],
    expected_console_errors: list[re.Pattern[str]],
) -> Iterator[Callable[..., Page]]:
    """Open pages in fresh browser contexts (one per person); no unexpected console errors."""
    contexts = []

    def open_page(*, width: int = 1280, height: int = 860, dark: bool = False) -> Page:
        context = browser.new_context(
            base_url=live_server,
            viewport={"width": width, "height": height},
            color_scheme="dark" if dark else "light",
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                console_errors.append(f"{message.text} ({message.location.get('url', '')})")

        page.on("console", on_console)
        page.on("pageerror", lambda error: console_errors.append(f"page error: {error}"))
        return page

    yield open_page
    for context in contexts:
        context.close()
    unexpected = [
        error
        for error in console_errors
        if not any(pattern.search(error) for pattern in expected_console_errors)
    ]
    assert not unexpected, "the browser console reported errors:\n" + "\n".join(unexpected)


def sign_in(page: Page, login: Login) -> None:
    """Sign in through the login form and wait for the landing page."""
    page.goto("/login")
    page.get_by_label("Email").fill(login.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def screenshot(page: Page, name: str, *, full_page: bool = False) -> None:
    """Write a screenshot of the current screen to docs/screenshots/, once it has settled."""
    page.wait_for_load_state("networkidle")
    # Notifications of earlier steps, a hover highlight and a blinking caret are not part of
    # the screen; every screenshot starts at the top of the page.
    dismiss = page.get_by_role("button", name="Dismiss notification")
    while dismiss.count():
        dismiss.first.click()
    page.mouse.move(0, 0)
    page.evaluate(
        "document.activeElement instanceof HTMLElement && document.activeElement.blur();"
        "window.scrollTo(0, 0)"
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page, animations="disabled"
    )


def assert_accessible(page: Page) -> None:
    """axe-core finds no serious or critical violation on the screen as it is now."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run scripts/bootstrap (npm ci in web/)")
    page.wait_for_load_state("networkidle")
    # Colours caught halfway through a transition (a theme switch, a toast fading in) are
    # not the screen's colours: let every finite animation end first.
    page.evaluate(
        "Promise.all(document.getAnimations()"
        ".filter(a => a.effect?.getComputedTiming().iterations !== Infinity)"
        ".map(a => a.finished.catch(() => null)))"
    )
    if not page.evaluate("typeof window.axe === 'object'"):
        # Evaluated rather than added as a <script>: the app's CSP allows no inline script.
        page.evaluate(AXE.read_text())
    violations: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, { resultTypes: ['violations'] })).violations"
    )
    found = [
        f"  {v['id']} ({v['impact']}) at {' '.join(node['target'])}: "
        + "; ".join(check["message"] for check in node["any"] + node["all"] + node["none"])
        for v in violations
        if v["impact"] in BLOCKING_IMPACTS
        for node in v["nodes"]
    ]
    dark = page.evaluate("document.documentElement.classList.contains('dark')")
    theme = "dark" if dark else "light"
    assert not found, f"axe-core on {page.url} ({theme} theme):\n" + "\n".join(found)
