"""Sign-up, sign-in, sign-out, the current user, personal access tokens, and the links
mailed to people: password resets, invitations and address confirmations."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Cookie, Request, Response, status
from fastapi.responses import JSONResponse

from ticketdesk.auth import links, service
from ticketdesk.auth.dependencies import (
    CSRF_COOKIE,
    DEVICE_COOKIE,
    DEVICE_COOKIE_PATH,
    SESSION_COOKIE,
    Audit,
    CurrentAdmin,
    CurrentUser,
    SigningSecret,
)
from ticketdesk.auth.schemas import (
    Accepted,
    ConfirmationSent,
    EmailConfirmation,
    Invitation,
    InvitationAcceptance,
    LinkRequest,
    Login,
    Me,
    MeUpdate,
    NewToken,
    PasswordChange,
    PasswordReset,
    SignedOutEverywhere,
    SignOutEverywhere,
    Signup,
    Token,
    TokenCreate,
)
from ticketdesk.auth.service import Actor
from ticketdesk.config import AppSettings, Settings
from ticketdesk.db import AutocommitConnection, Connection, Transaction
from ticketdesk.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    Unauthorized,
    problem_responses,
)
from ticketdesk.rate_limits import ClientKey, RateLimits
from ticketdesk.users import service as users
from ticketdesk.users.schemas import User

router = APIRouter(tags=["auth"])


# The device cookie a sign-in presents, if any: ``device: DeviceCookie``.
DeviceCookie = Annotated[str | None, Cookie(alias=DEVICE_COOKIE, include_in_schema=False)]


def _secure(request: Request, settings: Settings) -> bool:
    return request.url.scheme == "https" or settings.public_url.startswith("https://")


async def _start_session(
    request: Request,
    response: Response,
    conn: Connection,
    secret: bytes,
    settings: Settings,
    actor: Actor,
    device: str | None,
) -> Me:
    """Open a session for someone who just gave the account's password, and set its
    cookies: the session, its CSRF token, and the device cookie (``service.device_cookie``)."""
    session = await service.open_session(conn, secret, actor.id)
    secure = _secure(request, settings)
    common = {"max_age": service.SESSION_TTL_SECONDS, "secure": secure, "samesite": "lax"}
    response.set_cookie(SESSION_COOKIE, session.token, httponly=True, **common)  # type: ignore[arg-type]
    # Readable by the page's script, which echoes it in X-CSRF-Token.
    response.set_cookie(CSRF_COOKIE, session.csrf_token, httponly=False, **common)  # type: ignore[arg-type]
    device_cookie = await service.device_cookie(conn, secret, actor.id, device)
    _set_device_cookie(request, response, settings, device_cookie)
    return _me(actor, session.csrf_token)


def _set_device_cookie(
    request: Request, response: Response, settings: Settings, device_cookie: str
) -> None:
    """The cookie that frees this browser's later sign-ins from the lockout of the
    account's address, while the account keeps the password it has now."""
    response.set_cookie(
        DEVICE_COOKIE,
        device_cookie,
        max_age=service.DEVICE_TTL_SECONDS,
        path=DEVICE_COOKIE_PATH,
        secure=_secure(request, settings),
        httponly=True,
        samesite="lax",
    )


def _require_mail(settings: Settings, what: str) -> None:
    if not settings.mail_enabled:
        raise Conflict(
            f"{what} needs mail, and this ticketdesk sends none. Ask an administrator.",
            code="mail_disabled",
        )


def _me(actor: Actor, csrf_token: str | None) -> Me:
    return Me(
        id=actor.id, email=actor.email, name=actor.name, role=actor.role, csrf_token=csrf_token
    )


@router.post(
    "/auth/signup",
    status_code=status.HTTP_201_CREATED,
    operation_id="signup",
    response_model=Me,
    responses={
        status.HTTP_202_ACCEPTED: {
            "model": ConfirmationSent,
            "description": "With accounts.verify_email: the same answer for a new address "
            "(mailed the link that confirms it; until then signing in with its password is "
            "refused as a wrong password is) and for one that has an account (its owner is "
            "mailed how to sign in instead).",
        },
        **problem_responses(Forbidden, Conflict, RateLimited),
    },
)
async def signup(
    body: Signup,
    request: Request,
    response: Response,
    conn: Transaction,
    settings: AppSettings,
    secret: SigningSecret,
    limiter: RateLimits,
    client: ClientKey,
    device: DeviceCookie = None,
) -> Me | JSONResponse:
    """Create a submitter account and sign in (or, when addresses are confirmed first,
    mail the link that does; then an address that has an account is answered the same)."""
    if not settings.signup_enabled:
        raise Forbidden(
            "Sign-up is switched off; ask an admin for an account.", code="signup_disabled"
        )
    await limiter.check("signup", client)
    if settings.accounts.verify_email:
        address = await links.sign_up_to_confirm(
            conn,
            secret,
            email=body.email,
            name=body.name,
            password=body.password,
            internal_domains=settings.internal_email_domains,
        )
        sent = ConfirmationSent(
            email=address,
            detail=f"We sent a mail to {address}. Follow its link to start using your account.",
        )
        return JSONResponse(sent.model_dump(), status_code=status.HTTP_202_ACCEPTED)
    # Signed in at once: an address that has an account cannot be answered alike (409).
    user = await users.create_user(
        conn,
        email=body.email,
        name=body.name,
        role="user",
        password=body.password,
        internal_domains=settings.internal_email_domains,
    )
    actor = Actor(id=user.id, email=user.email, name=user.name, role=user.role)
    return await _start_session(request, response, conn, secret, settings, actor, device)


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
    limiter: RateLimits,
    client: ClientKey,
    device: DeviceCookie = None,
) -> Me:
    """Sign in with e-mail and password; sets the session cookie, and a device cookie
    that keeps this browser's later sign-ins clear of the lockout that guessing the
    address's password elsewhere causes. Where addresses are confirmed first, an account
    whose address is not confirmed yet is refused as a wrong password is (401)."""
    await limiter.check("login", client)
    # Autocommit: a failed attempt must be counted even though the request fails.
    actor = await service.authenticate(
        conn,
        secret,
        email=body.email,
        password=body.password,
        client_ip=client,
        device=device,
        verified_only=settings.accounts.verify_email,
    )
    return await _start_session(request, response, conn, secret, settings, actor, device)


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


@router.post(
    "/auth/logout-everywhere",
    operation_id="logoutEverywhere",
    responses=problem_responses(Unauthorized, Forbidden),
)
async def logout_everywhere(
    actor: CurrentUser,
    conn: Transaction,
    response: Response,
    audit: Audit,
    body: Annotated[SignOutEverywhere | None, Body()] = None,
) -> SignedOutEverywhere:
    """End every one of your sessions, this one included; with revoke_tokens, revoke
    your access tokens too."""
    choice = body or SignOutEverywhere()
    ended = await service.sign_out_everywhere(conn, actor.id, revoke_tokens=choice.revoke_tokens)
    if ended.tokens_revoked:
        await audit("token.revoked_all", "user", actor.id, after=ended)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return ended


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
    responses=problem_responses(Unauthorized, Forbidden, RateLimited),
)
async def create_token(
    body: TokenCreate, actor: CurrentUser, conn: Transaction, limiter: RateLimits, audit: Audit
) -> NewToken:
    """Create a personal access token; its secret is in this response only. Made with a
    token, it may do no more than that token, expires no later, and is revoked with it."""
    await limiter.check("token", str(actor.id))
    token = await service.create_token(
        conn,
        actor.id,
        body.name,
        scope=body.scope,
        expires_at=body.expires_at,
        parent=actor.token,
    )
    await audit("token.created", "token", token.id, after=token)
    return token


@router.delete(
    "/me/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="revokeToken",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def revoke_token(token_id: UUID, actor: CurrentUser, conn: Transaction, audit: Audit) -> None:
    """Revoke one of your personal access tokens, and every token made with it."""
    tokens = await service.list_tokens(conn, actor.id)
    await service.revoke_token(conn, actor.id, token_id)
    before = next(token for token in tokens if token.id == token_id)
    await audit("token.revoked", "token", token_id, before=before)


@router.patch(
    "/me",
    operation_id="updateMe",
    responses=problem_responses(Unauthorized, Forbidden),
)
async def update_me(body: MeUpdate, actor: CurrentUser, conn: Transaction) -> Me:
    """Change your name."""
    user = await users.update_user(conn, actor.id, name=body.name, role=None, is_active=None)
    return _me(
        Actor(id=user.id, email=user.email, name=user.name, role=user.role), actor.csrf_token
    )


@router.put(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="changePassword",
    responses=problem_responses(Unauthorized, Forbidden, InvalidInput, RateLimited),
)
async def change_password(
    body: PasswordChange,
    request: Request,
    response: Response,
    actor: CurrentUser,
    conn: AutocommitConnection,
    settings: AppSettings,
    secret: SigningSecret,
    client: ClientKey,
    device: DeviceCookie = None,
) -> None:
    """Change your password, giving the current one; your other sessions end and your
    access tokens are revoked."""
    await service.change_password(
        conn,
        secret,
        actor,
        current_password=body.current_password,
        new_password=body.new_password,
        client_ip=client,
        device=device,
    )
    # Device cookies given before no longer count (they are tied to the password): this
    # browser, which knew the current one, gets one for the new.
    _set_device_cookie(
        request, response, settings, await service.device_cookie(conn, secret, actor.id, device)
    )


@router.post(
    "/auth/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="requestPasswordReset",
    responses=problem_responses(Conflict, RateLimited),
)
async def request_password_reset(
    body: LinkRequest, conn: AutocommitConnection, settings: AppSettings, client: ClientKey
) -> Accepted:
    """Mail a link to set a new password; the answer is the same for any address."""
    _require_mail(settings, "Resetting a password")
    await links.request_password_reset(conn, email=body.email, client_ip=client)
    return Accepted(
        detail="If an account uses this address, a link to set a new password is on its way."
    )


@router.post(
    "/auth/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="resetPassword",
    responses=problem_responses(Conflict),
)
async def reset_password(body: PasswordReset, conn: Transaction) -> None:
    """Set a new password with a reset link; every session and access token ends."""
    await links.reset_password(conn, token=body.token, password=body.password)


@router.post(
    "/auth/verify-email",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="requestEmailConfirmation",
    responses=problem_responses(Conflict, RateLimited),
)
async def request_email_confirmation(
    body: LinkRequest, conn: AutocommitConnection, settings: AppSettings, client: ClientKey
) -> Accepted:
    """Mail a new link to confirm an address; the answer is the same for any address."""
    _require_mail(settings, "Confirming an address")
    await links.request_verification(conn, email=body.email, client_ip=client)
    return Accepted(detail="If an unconfirmed account uses this address, a new link is on its way.")


@router.post(
    "/auth/verify-email/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="confirmEmail",
    responses=problem_responses(Conflict),
)
async def confirm_email(body: EmailConfirmation, conn: Transaction) -> None:
    """Confirm your address with its link; then sign in with your password."""
    await links.verify_email(conn, token=body.token)


@router.post(
    "/auth/invitations/accept",
    operation_id="acceptInvitation",
    responses=problem_responses(Conflict),
)
async def accept_invitation(
    body: InvitationAcceptance,
    request: Request,
    response: Response,
    conn: Transaction,
    settings: AppSettings,
    secret: SigningSecret,
    device: DeviceCookie = None,
) -> Me:
    """Choose your password with an invitation link, and sign in."""
    actor = await links.accept_invitation(conn, token=body.token, password=body.password)
    return await _start_session(request, response, conn, secret, settings, actor, device)


@router.post(
    "/users/invitations",
    status_code=status.HTTP_201_CREATED,
    operation_id="inviteUser",
    tags=["users"],
    responses=problem_responses(Unauthorized, Forbidden, Conflict),
)
async def invite_user(
    body: Invitation,
    actor: CurrentAdmin,
    conn: Transaction,
    settings: AppSettings,
    secret: SigningSecret,
    audit: Audit,
) -> User:
    """Create an account and mail its owner a link to choose a password (admins)."""
    _require_mail(settings, "Inviting by mail")
    user = await links.invite(
        conn,
        secret,
        email=body.email,
        name=body.name,
        role=body.role,
        internal_domains=settings.internal_email_domains,
    )
    await audit("user.invited", "user", user.id, after=user)
    return user


@router.post(
    "/users/{user_id}/invitation",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="resendInvitation",
    tags=["users"],
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def resend_invitation(
    user_id: UUID,
    actor: CurrentAdmin,
    conn: Transaction,
    settings: AppSettings,
    secret: SigningSecret,
    audit: Audit,
) -> Accepted:
    """Mail an invited person a new link; the one before stops working (admins)."""
    _require_mail(settings, "Inviting by mail")
    await links.resend_invitation(conn, secret, user_id)
    await audit("user.invitation_resent", "user", user_id)
    return Accepted(detail="A new invitation is on its way.")
