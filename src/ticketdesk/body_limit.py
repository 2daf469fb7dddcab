"""A cap on request bodies, enforced before and while they are read.

JSON bodies are small; without a cap one anonymous request could make the server
buffer hundreds of megabytes before validation refuses it. Routes that stream large
bodies (attachment uploads) enforce their own, larger limits and are exempt.
"""

import re
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticketdesk.errors import PROBLEM_JSON, Problem, TooLarge, problem_type

DEFAULT_LIMIT = 1024 * 1024


class BodyLimit:
    """Refuse bodies over ``limit_for(path)`` bytes (``None`` means no cap here)."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int | None]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check Content-Length first, then count what is actually received."""
        limit = self.limit_for(scope["path"]) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException, so FastAPI's body parsing passes it through as is.
                    raise HTTPException(413, f"The request body is over {limit} bytes.")
            return message

        await self.app(scope, counting_receive, send)


async def _refuse(send: Send, limit: int) -> None:
    body = (
        Problem(
            type=problem_type("body_too_large"),
            title=TooLarge.title,
            status=413,
            detail=f"The request body is over {limit} bytes.",
            code="body_too_large",
        )
        .model_dump_json(exclude_none=True)
        .encode()
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def limits_by_route(overrides: dict[str, int | None]) -> Callable[[str], int | None]:
    """A ``limit_for`` from path patterns to limits, with ``DEFAULT_LIMIT`` elsewhere."""
    compiled = [(re.compile(pattern), limit) for pattern, limit in overrides.items()]

    def limit_for(path: str) -> int | None:
        for pattern, limit in compiled:
            if pattern.fullmatch(path):
                return limit
        return DEFAULT_LIMIT

    return limit_for
