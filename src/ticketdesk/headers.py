"""Headers every response carries, error pages included.

This wraps the whole application, outside Starlette's own error handling, so a 500
from an unhandled exception, a 413 from the body limit and a 404 get the same request
id and the same protections as a page. Pages that run code (the web app, the API docs)
set their own Content-Security-Policy; everything else gets one that allows nothing.
"""

import base64
import hashlib
import re
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")

# A year; browsers then refuse plain http for the host, so only sent behind https. Not
# includeSubDomains: with ticketdesk at a domain's apex, that would hold every other
# service under it to https too.
HSTS = "max-age=31536000"
NOTHING_ALLOWED = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


class ResponseHeaders:
    """Give every HTTP response a request id, no-sniff, no framing and, behind https, HSTS.

    The request id is the client's ``X-Request-ID`` when it is well formed, else a new
    one; the app reads it as ``request.state.request_id``.
    """

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Note the request id, then add the headers to the response as it starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = sent if _REQUEST_ID.match(sent) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        api = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Content-Security-Policy", NOTHING_ALLOWED)
                if api or message["status"] >= 500:
                    # Personal data, or a passing failure: never kept by browsers or caches.
                    headers.setdefault("Cache-Control", "no-store")
                if self.https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def script_hash(script: str | bytes) -> str:
    """The CSP source that allows exactly this inline script."""
    data = script.encode() if isinstance(script, str) else script
    return "'sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode() + "'"
