"""Serving the built web app: real files as they are, every other page path → index.html."""

import re
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from starlette.exceptions import HTTPException

from ticketdesk.headers import script_hash

DIST = Path(__file__).parent / "web" / "dist"

# SvelteKit puts content-hashed bundles under _app/immutable: cache them for a year.
_IMMUTABLE = "public, max-age=31536000, immutable"
# The shell's inline scripts (the theme set before first paint, SvelteKit's start-up).
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\ssrc=)[^>]*>(.*?)</script>", re.DOTALL)


def shell_headers(index_html: bytes) -> dict[str, str]:
    """Headers for the app's shell: its inline scripts allowed by hash, nothing else inline."""
    hashes = " ".join(script_hash(script) for script in _INLINE_SCRIPT.findall(index_html))
    return {
        "Cache-Control": "no-cache",
        "Content-Security-Policy": (
            f"default-src 'self'; script-src 'self' {hashes}; style-src 'self'; "
            # Svelte and its widgets set style attributes at run time; <style> stays refused.
            "style-src-attr 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; "
            "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
        ),
    }


def mount_spa(app: FastAPI, dist: Path = DIST) -> bool:
    """Serve ``dist`` at ``/`` if it has been built; return whether it was."""
    index = dist / "index.html"
    if not index.is_file():
        return False
    root = dist.resolve()
    shell = root / "index.html"
    # Read once: the shell served is the one its scripts were hashed from, even if the
    # web app is rebuilt while the server runs.
    page = shell.read_bytes()
    headers = shell_headers(page)

    @app.get("/{path:path}", include_in_schema=False)
    async def spa(path: str, request: Request) -> Response:
        """A file of the web app, or the app's shell for a client-side route."""
        if path == "api" or path.startswith("api/"):
            raise HTTPException(status_code=404, detail="Not Found")
        candidate = (root / path).resolve()
        if path and candidate != shell and candidate.is_file() and candidate.is_relative_to(root):
            cached = {"Cache-Control": _IMMUTABLE} if path.startswith("_app/immutable/") else {}
            return FileResponse(candidate, headers=cached)
        return Response(page, media_type="text/html", headers=headers)

    return True
