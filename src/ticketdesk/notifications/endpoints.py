"""Mail choices (``/me/notifications``), one-click unsubscribe, and failed mail for admins."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query
from fastapi.responses import RedirectResponse

from ticketdesk.auth.dependencies import Audit, CurrentAdmin, CurrentUser, SigningSecret
from ticketdesk.config import AppSettings
from ticketdesk.db import Transaction
from ticketdesk.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
    problem_responses,
)
from ticketdesk.notifications import service
from ticketdesk.notifications.schemas import (
    FailedMailPage,
    NotificationSettings,
    NotificationSettingsUpdate,
    QueuedMail,
    Unsubscribed,
)
from ticketdesk.tickets import followers
from ticketdesk.validation import PlainInteger

router = APIRouter(tags=["notifications"])

Token = Annotated[str, Path(min_length=40, max_length=400, pattern=r"^[0-9a-z_.-]+$")]
FollowerToken = Annotated[
    str, Path(min_length=65, max_length=65, pattern=r"^[0-9a-f]{32}\.[0-9a-f]{32}$")
]


@router.get(
    "/me/notifications",
    operation_id="getNotificationSettings",
    responses=problem_responses(Unauthorized),
)
async def get_notification_settings(
    actor: CurrentUser, conn: Transaction, settings: AppSettings
) -> NotificationSettings:
    """The kinds of mail you may get, each on or off."""
    return await service.get_settings(conn, actor, mail_enabled=settings.mail_enabled)


@router.put(
    "/me/notifications",
    operation_id="updateNotificationSettings",
    responses=problem_responses(Unauthorized, Forbidden, InvalidInput),
)
async def update_notification_settings(
    body: NotificationSettingsUpdate, actor: CurrentUser, conn: Transaction, settings: AppSettings
) -> NotificationSettings:
    """Turn kinds of mail on or off; kinds not named keep their setting."""
    return await service.update_settings(conn, actor, body, mail_enabled=settings.mail_enabled)


@router.post(
    "/notifications/unsubscribe/{token}",
    operation_id="unsubscribe",
    responses=problem_responses(NotFound),
)
async def unsubscribe(token: Token, conn: Transaction, secret: SigningSecret) -> Unsubscribed:
    """Turn off the kinds of mail an unsubscribe link names, without signing in
    (RFC 8058 one-click: mail clients POST here)."""
    return await service.unsubscribe(conn, secret, token)


@router.get(
    "/notifications/unsubscribe/{token}",
    operation_id="confirmUnsubscribe",
    status_code=303,
    response_class=RedirectResponse,
    responses={
        303: {"description": "To the page that asks before unsubscribing."},
        **problem_responses(NotFound),
    },
)
async def confirm_unsubscribe(
    token: Token, secret: SigningSecret, settings: AppSettings
) -> RedirectResponse:
    """Opened in a browser: the page that asks before unsubscribing (a GET changes nothing,
    so link checkers that open every link in a mail do no harm)."""
    service.check_unsubscribe_token(secret, token)
    return RedirectResponse(f"{settings.public_url}/unsubscribe/{token}", status_code=303)


@router.post(
    "/followers/unsubscribe/{token}",
    operation_id="unfollowByLink",
    status_code=204,
    responses=problem_responses(NotFound),
)
async def unfollow_by_link(token: FollowerToken, conn: Transaction, secret: SigningSecret) -> None:
    """Stop the mail an address copied on a ticket gets, without signing in (RFC 8058
    one-click: mail clients POST here; again: nothing more happens)."""
    await followers.unfollow_by_token(conn, secret, token)


@router.get(
    "/followers/unsubscribe/{token}",
    operation_id="confirmUnfollow",
    status_code=303,
    response_class=RedirectResponse,
    responses={
        303: {"description": "To the page that asks before unsubscribing."},
        **problem_responses(NotFound),
    },
)
async def confirm_unfollow(
    token: FollowerToken, secret: SigningSecret, settings: AppSettings
) -> RedirectResponse:
    """Opened in a browser: the page that asks before stopping the mail."""
    followers.check_unfollow_token(secret, token)
    return RedirectResponse(f"{settings.public_url}/unfollow/{token}", status_code=303)


@router.get(
    "/admin/mail",
    operation_id="listFailedMail",
    tags=["admin"],
    responses=problem_responses(Unauthorized, Forbidden, InvalidInput),
)
async def list_failed_mail(
    actor: CurrentAdmin,
    conn: Transaction,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=100), PlainInteger] = 25,
) -> FailedMailPage:
    """Mail that failed for good, newest first, with why."""
    return await service.list_failed_mails(conn, cursor=cursor, limit=limit)


@router.post(
    "/admin/mail/{mail_id}/retry",
    operation_id="retryMail",
    tags=["admin"],
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def retry_mail(
    mail_id: UUID, actor: CurrentAdmin, conn: Transaction, settings: AppSettings, audit: Audit
) -> QueuedMail:
    """Send a failed mail again, now, as things stand (it may turn out to have nothing left
    to say)."""
    queued = await service.retry_mail(conn, settings, mail_id)
    await audit("mail.retried", "mail", mail_id, after=queued)
    return queued
