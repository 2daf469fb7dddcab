"""Sign-up, sign-in, sign-out, the current user and personal access tokens."""

from uuid import UUID

from fastapi import APIRouter, Request, Response, status

from ticketdesk.auth import service
from ticketdesk.auth.dependencies import CSRF_COOKIE, SESSION_COOKIE, CurrentUser, SigningSecret
from ticketdesk.auth.schemas import Login, Me, NewToken, Signup, Token, TokenCreate
from ticketdesk.auth.service import Actor, NewSession
from ticketdesk.config import AppSettings, Settings
from ticketdesk.db import AutocommitConnection, Transaction
from ticketdesk.errors import (
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthorized,
    problem_responses,
)
from ticketdesk.users import service as users

router = APIRouter(tags=["auth"])


def _set_session_cookies(
    request: Request, response: Response, settings: Settings, session: NewSession
) -> None:
    secure = request.url.scheme == "https" or settings.public_url.startswith("https://")
    common = {"max_age": service.SESSION_TTL_SECONDS, "secure": secure, "samesite": "lax"}
    response.set_cookie(SESSION_COOKIE, session.token, httponly=True, **common)  # type: ignore[arg-type]
    # Readable by the page's script, which echoes it in X-CSRF-Token.
    response.set_cookie(CSRF_COOKIE, session.csrf_token, httponly=False, **common)  # type: ignore[arg-type]


def _me(actor: Actor, csrf_token: str | None) -> Me:
    return Me(
        id=actor.id, email=actor.email, name=actor.name, role=actor.role, csrf_token=csrf_token
    )


@router.post(
    "/auth/signup",
    status_code=status.HTTP_201_CREATED,
    operation_id="signup",
    responses=problem_responses(Forbidden, Conflict),
)
async def signup(
    body: Signup,
    request: Request,
    response: Response,
    conn: Transaction,
    settings: AppSettings,
    secret: SigningSecret,
) -> Me:
    """Create a submitter account and sign in."""
    if not settings.signup_enabled:
        raise Forbidden(
            "Sign-up is switched off; ask an admin for an account.", code="signup_disabled"
        )
    user = await users.create_user(
        conn,
        email=body.email,
        name=body.name,
        role="user",
        password=body.password,
        internal_domains=settings.internal_email_domains,
    )
    session = await service.open_session(conn, secret, user.id)
    _set_session_cookies(request, response, settings, session)
    actor = Actor(id=user.id, email=user.email, name=user.name, role=user.role)
    return _me(actor, session.csrf_token)


@router.post(
    "/auth/login",
    operation_id="login",
    responses=problem_responses(Unauthorized, RateLimited),
)
async def login(
    body: Login,
    request: Request,
    response: Response,
    conn: AutocommitConnection,
    settings: AppSettings,
    secret: SigningSecret,
) -> Me:
    """Sign in with e-mail and password; sets the session cookie."""
    # Autocommit: a failed attempt must be counted even though the request fails.
    client_ip = request.client.host if request.client else "unknown"
    actor = await service.authenticate(
        conn, email=body.email, password=body.password, client_ip=client_ip
    )
    session = await service.open_session(conn, secret, actor.id)
    _set_session_cookies(request, response, settings, session)
    return _me(actor, session.csrf_token)


@router.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="logout",
    responses=problem_responses(Unauthorized, Forbidden),
)
async def logout(actor: CurrentUser, conn: Transaction, response: Response) -> None:
    """End the current session."""
    if actor.session_id is not None:
        await service.close_session(conn, actor.session_id)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)


@router.get("/me", operation_id="getMe", responses=problem_responses(Unauthorized))
async def get_me(actor: CurrentUser) -> Me:
    """The signed-in person."""
    return _me(actor, actor.csrf_token)


@router.get("/me/tokens", operation_id="listTokens", responses=problem_responses(Unauthorized))
async def list_tokens(actor: CurrentUser, conn: Transaction) -> list[Token]:
    """Your personal access tokens (without their secrets)."""
    return await service.list_tokens(conn, actor.id)


@router.post(
    "/me/tokens",
    status_code=status.HTTP_201_CREATED,
    operation_id="createToken",
    responses=problem_responses(Unauthorized, Forbidden),
)
async def create_token(body: TokenCreate, actor: CurrentUser, conn: Transaction) -> NewToken:
    """Create a personal access token; its secret is in this response only."""
    return await service.create_token(conn, actor.id, body.name)


@router.delete(
    "/me/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="revokeToken",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def revoke_token(token_id: UUID, actor: CurrentUser, conn: Transaction) -> None:
    """Revoke one of your personal access tokens."""
    await service.revoke_token(conn, actor.id, token_id)
