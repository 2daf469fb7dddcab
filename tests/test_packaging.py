"""The wheel production installs: built by ``python -m build`` as the Dockerfile builds
it, installed into a fresh virtual environment away from the source tree, with no Node.js
on PATH, it migrates a new database and serves the API and the web app.

``python -m build --wheel`` runs ``hatch_build.py``, which puts the web app into the
wheel; it reuses the one ``scripts/bootstrap`` built into ``src/ticketdesk/web/dist``
(and builds it with npm when there is none). uv, not pip, creates the build's isolated
environment and installs the wheel with the pins of ``requirements.txt``: the same
packages, many times faster from its cache.
"""

import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from uv import find_uv_bin

from tests.mailservers import free_port

ROOT = Path(__file__).parent.parent
UV = find_uv_bin()
SECRET_KEY = "packaging-test-secret-key-long-enough-0123"
# A line of serve's start-up story: "  migrations    up to date (0.0 s)".
MIGRATIONS_STEP = re.compile(r"^  migrations +(.+) \(\d+\.\d s\)$", re.MULTILINE)
# A content-hashed stylesheet the web app's shell loads.
STYLESHEET = re.compile(r'"/(_app/immutable/[^"]+\.css)"')

# The wheel is built once for both tests, which run on one xdist worker.
pytestmark = pytest.mark.xdist_group("packaging")


def _run(args: list[str | Path], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run a command; its standard output, or a failure showing all it printed."""
    done = subprocess.run(
        [str(arg) for arg in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"{args[0]} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    output: str = done.stdout
    return output


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built as production builds it."""
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "build", "--wheel", "--installer", "uv", "--outdir", out, ROOT])
    (built,) = out.glob("ticketdesk-*.whl")
    return built


def _wait_healthy(url: str, process: subprocess.Popen[str], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"ticketdesk serve exited {process.returncode}:\n{out}\n{err}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("ticketdesk serve did not answer /healthz")


def test_the_wheel_holds_the_package_and_the_built_web_app_only(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()

    metadata = f"ticketdesk-{wheel.name.split('-')[1]}.dist-info"
    assert {name.split("/")[0] for name in names} == {"ticketdesk", metadata}
    assert "ticketdesk/web/dist/index.html" in names
    assert "ticketdesk/migrations/0001_core.sql" in names
    assert not [name for name in names if name.startswith("tests/") or "/tests/" in name]
    web_sources = [
        name
        for name in names
        if name.endswith((".svelte", ".ts")) or "node_modules" in name or "/web/src/" in name
    ]
    assert web_sources == []


def test_installed_without_the_source_tree_or_node_it_migrates_and_serves(
    wheel: Path, empty_database: str, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    pins = ROOT / "requirements.txt"
    _run([UV, "pip", "install", "--python", python, "--no-deps", "-r", pins, wheel])
    _run([UV, "pip", "check", "--python", python])  # the pins hold every dependency
    workdir = tmp_path / "run"
    workdir.mkdir()
    port = free_port()
    env = {
        "PATH": str(venv / "bin"),
        "HOME": str(workdir),
        "DATABASE_URL": empty_database,
        "TICKETDESK_SECRET_KEY": SECRET_KEY,
        "TICKETDESK_DATA_DIR": str(workdir / "data"),
        "TICKETDESK_PORT": str(port),
    }
    assert shutil.which("node", path=env["PATH"]) is None
    assert shutil.which("npm", path=env["PATH"]) is None
    imported_from = _run(
        [python, "-c", "import ticketdesk; print(ticketdesk.__file__)"], cwd=workdir, env=env
    )
    assert Path(imported_from.strip()).is_relative_to(venv)

    ticketdesk = venv / "bin" / "ticketdesk"
    migrated = _run([ticketdesk, "migrate"], cwd=workdir, env=env)
    assert migrated.startswith("applied: 0001_core")

    server = subprocess.Popen(
        [ticketdesk, "serve"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, server)
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
        page = httpx.get(f"{url}/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        # The web app's shell, not the page served when there is no web app.
        with zipfile.ZipFile(wheel) as archive:
            assert page.content == archive.read("ticketdesk/web/dist/index.html")
            stylesheets = STYLESHEET.findall(page.text)
            assert stylesheets, page.text
            asset = httpx.get(f"{url}/{stylesheets[0]}")
            assert asset.status_code == 200
            assert asset.headers["content-type"].startswith("text/css")
            assert asset.content == archive.read(f"ticketdesk/web/dist/{stylesheets[0]}")
            # The API documentation the banner points at loads Swagger UI from the wheel.
            bundle = httpx.get(f"{url}/api/v1/docs/swagger-ui-bundle.js")
            assert bundle.status_code == 200
            swagger_ui = "ticketdesk/web/dist/swagger-ui/swagger-ui-bundle.js"
            assert bundle.content == archive.read(swagger_ui)

        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()

    # As tests/live/test_shutdown.py shows: once stopped, the process ends by the signal.
    assert server.returncode == -signal.SIGTERM, err
    assert "Traceback" not in err
    assert MIGRATIONS_STEP.findall(out) == ["up to date"]
