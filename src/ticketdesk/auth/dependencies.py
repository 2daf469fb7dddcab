"""Who is calling: ``CurrentUser``, ``CurrentAgent``, ``CurrentAdmin`` and friends.

A request proves who it is with ``Authorization: Bearer <personal access token>`` or
with the session cookie. Cookie-authenticated unsafe requests must also echo the
session's CSRF token in ``X-CSRF-Token``; bearer requests need not, since a browser
never adds that header on its own. A read-only token makes GET and HEAD requests only.
"""

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from ticketdesk.audit import service as audit
from ticketdesk.auth import service
from ticketdesk.auth.service import Actor, Recheck
from ticketdesk.db import Connection, Pool, Transaction, after_transaction, connection
from ticketdesk.errors import Forbidden, Unauthorized

SESSION_COOKIE = "ticketdesk_session"
CSRF_COOKIE = "ticketdesk_csrf"
# Set on signing in: a later sign-in from the same browser is not held by the lockout of
# its address (``service.authenticate``). Sent only to the API, where sign-ins happen.
DEVICE_COOKIE = "ticketdesk_device"
DEVICE_COOKIE_PATH = "/api/v1"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_METHODS = frozenset({"GET", "HEAD"})

bearer_scheme = HTTPBearer(auto_error=False, description="A personal access token.")
session_cookie_scheme = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="Session cookie."
)


async def signing_secret(request: Request) -> bytes:
    """The running app's key for signing sessions: ``secret: SigningSecret``."""
    secret: bytes = request.app.state.secret
    return secret


SigningSecret = Annotated[bytes, Depends(signing_secret)]


async def optional_actor(
    request: Request,
    conn: Transaction,
    secret: SigningSecret,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    session_token: Annotated[str | None, Depends(session_cookie_scheme)],
) -> Actor | None:
    """The caller, or ``None`` when anonymous; wrong credentials are a 401. Whose the
    credentials are is noted as ``request.state.user_id``, for the request's log line."""
    if bearer is not None:
        use = await service.actor_for_token(conn, bearer.credentials)
        if use is None:
            raise Unauthorized(
                "The access token is invalid, expired or revoked.", code="invalid_token"
            )
        request.state.user_id = str(use.actor.id)
        if use.stale:
            token_id = use.token_id
            after_transaction(request, lambda own: service.touch_token(own, token_id))
        if use.scope == "read" and request.method not in READ_METHODS:
            raise Forbidden(
                "This access token is read-only: it may only make GET and HEAD requests.",
                code="read_only_token",
            )
        return use.actor
    if session_token:
        actor = await service.actor_for_session(conn, secret, session_token)
        if actor is None:
            return None
        request.state.user_id = str(actor.id)
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), (actor.csrf_token or "").encode()):
                raise Forbidden(f"Missing or wrong {CSRF_HEADER} header.", code="csrf_failed")
        return actor
    return None


async def current_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    """The caller; anonymous requests are a 401."""
    if actor is None:
        raise Unauthorized("Sign in or send a personal access token.")
    return actor


async def current_agent(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
    """The caller, who must be an agent or an admin."""
    if not actor.is_staff:
        raise Forbidden("Only agents and admins may do this.", code="staff_only")
    return actor


async def current_admin(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
    """The caller, who must be an admin."""
    if actor.role != "admin":
        raise Forbidden("Only admins may do this.", code="admin_only")
    return actor


async def credentials_recheck(
    pool: Pool,
    secret: SigningSecret,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    session_token: Annotated[str | None, Depends(session_cookie_scheme)],
) -> Recheck:
    """Who the request's credentials belong to, asked again later: for a response that
    lasts (an event stream) to end once its session or token no longer does."""

    async def recheck() -> Actor | None:
        async with connection(pool) as conn:
            if bearer is not None:
                use = await service.actor_for_token(conn, bearer.credentials)
                return None if use is None else use.actor
            if session_token:
                return await service.actor_for_session(conn, secret, session_token)
            return None

    return recheck


CredentialsRecheck = Annotated[Recheck, Depends(credentials_recheck)]
CurrentUser = Annotated[Actor, Depends(current_actor)]
CurrentAgent = Annotated[Actor, Depends(current_agent)]
CurrentAdmin = Annotated[Actor, Depends(current_admin)]


State = BaseModel | Mapping[str, Any] | None


def _state(value: State) -> Mapping[str, Any] | None:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value


@dataclass(frozen=True)
class Auditor:
    """Records the administrative actions of one request in its transaction, as its
    caller, from its client (the address the proxy-headers middleware settled on)."""

    conn: Connection
    actor_id: UUID
    client_address: str | None

    async def __call__(
        self,
        action: str,
        target_type: str,
        target_id: UUID | str | int | None,
        *,
        before: State = None,
        after: State = None,
    ) -> None:
        await audit.record(
            self.conn,
            actor_id=self.actor_id,
            client_address=self.client_address,
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            before=_state(before),
            after=_state(after),
        )


async def auditor(request: Request, conn: Transaction, actor: CurrentUser) -> Auditor:
    """The request's ``Auditor``: ``audit: Audit``, then ``await audit("label.created", …)``."""
    return Auditor(conn, actor.id, request.client.host if request.client else None)


Audit = Annotated[Auditor, Depends(auditor)]
