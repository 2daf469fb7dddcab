"""The browsable API description at ``/api/v1/docs``: Swagger UI from the app's own origin.

Swagger UI comes from npm's ``swagger-ui-dist``, copied into the built web app by
``npm run build`` (web/scripts/copy-swagger-ui.mjs), so the docs load nothing from a CDN
and work offline. The page's one inline script is allowed by its hash.
"""

import logging
from pathlib import Path
from typing import Final

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.exceptions import HTTPException

from ticketdesk.headers import script_hash

log = logging.getLogger(__name__)

ASSETS = Path(__file__).parent / "web" / "dist" / "swagger-ui"
_SERVED: Final = {"swagger-ui-bundle.js", "swagger-ui.css"}

_START = """
const ui = SwaggerUIBundle({
  url: "%(openapi_url)s",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  // Otherwise, on any host but localhost, the spec's URL goes to validator.swagger.io.
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%(title)s</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="%(docs_url)s/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="%(docs_url)s/swagger-ui-bundle.js"></script>
<script>%(start)s</script>
</body>
</html>
"""


def mount_api_docs(app: FastAPI, *, docs_url: str, openapi_url: str, assets: Path = ASSETS) -> None:
    """Serve Swagger UI for ``openapi_url`` at ``docs_url``, its files under it."""
    if not (assets / "swagger-ui-bundle.js").is_file():
        log.warning(
            "Swagger UI is missing from %s, so %s will be blank: run `npm run build` in web/",
            assets,
            docs_url,
        )
    start = _START % {"openapi_url": openapi_url}
    page = _PAGE % {"title": f"{app.title} API", "docs_url": docs_url, "start": start}
    headers = {
        "Cache-Control": "no-cache",
        # Swagger UI styles its widgets through the DOM, and shows data: images.
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'self' {script_hash(start)}; "
            "style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        ),
    }

    @app.get(docs_url, include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        """Swagger UI for the API description."""
        return HTMLResponse(page, headers=headers)

    @app.get(docs_url + "/{name}", include_in_schema=False)
    async def api_docs_asset(name: str) -> Response:
        """One of Swagger UI's files."""
        if name not in _SERVED or not (assets / name).is_file():
            raise HTTPException(status_code=404, detail="Not Found")
        return FileResponse(assets / name, headers={"Cache-Control": "no-cache"})
