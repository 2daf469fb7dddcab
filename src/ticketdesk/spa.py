"""Serving the built web app: real files as they are, every other page path → index.html."""

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from starlette.exceptions import HTTPException

DIST = Path(__file__).parent / "web" / "dist"

# SvelteKit puts content-hashed bundles under _app/immutable: cache them for a year.
_IMMUTABLE = "public, max-age=31536000, immutable"
_HTML_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'self'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
}


def mount_spa(app: FastAPI, dist: Path = DIST) -> bool:
    """Serve ``dist`` at ``/`` if it has been built; return whether it was."""
    index = dist / "index.html"
    if not index.is_file():
        return False
    root = dist.resolve()

    @app.get("/{path:path}", include_in_schema=False)
    async def spa(path: str, request: Request) -> Response:
        """A file of the web app, or the app's shell for a client-side route."""
        if path == "api" or path.startswith("api/"):
            raise HTTPException(status_code=404, detail="Not Found")
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            headers = {"Cache-Control": _IMMUTABLE} if path.startswith("_app/immutable/") else {}
            return FileResponse(candidate, headers=headers)
        return FileResponse(index, headers=_HTML_HEADERS)

    return True
