"""Webhook endpoints (``/webhooks``), their one-time secrets and delivery logs: admins only."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from ticketdesk.auth.dependencies import Audit, CurrentAdmin
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
from ticketdesk.validation import PlainInteger
from ticketdesk.webhooks import service
from ticketdesk.webhooks.schemas import (
    Delivery,
    DeliveryPage,
    Webhook,
    WebhookCreate,
    WebhookList,
    WebhookUpdate,
    WebhookWithSecret,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks", "admin"])


@router.get(
    "",
    operation_id="listWebhooks",
    responses=problem_responses(Unauthorized, Forbidden),
)
async def list_webhooks(actor: CurrentAdmin, conn: Transaction) -> WebhookList:
    """Every webhook endpoint, with whether it is failing."""
    return await service.list_webhooks(conn)


@router.post(
    "",
    operation_id="createWebhook",
    status_code=201,
    responses=problem_responses(Unauthorized, Forbidden, InvalidInput),
)
async def create_webhook(
    body: WebhookCreate,
    actor: CurrentAdmin,
    conn: Transaction,
    settings: AppSettings,
    audit: Audit,
) -> WebhookWithSecret:
    """Register an endpoint; its signing secret is in this answer and never shown again."""
    webhook = await service.create_webhook(conn, settings, body)
    await audit("webhook.created", "webhook", webhook.id, after=webhook)
    return webhook


@router.get(
    "/{webhook_id}",
    operation_id="getWebhook",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def get_webhook(webhook_id: UUID, actor: CurrentAdmin, conn: Transaction) -> Webhook:
    """One endpoint (without its secret)."""
    return await service.get_webhook(conn, webhook_id)


@router.patch(
    "/{webhook_id}",
    operation_id="updateWebhook",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, InvalidInput),
)
async def update_webhook(
    webhook_id: UUID,
    body: WebhookUpdate,
    actor: CurrentAdmin,
    conn: Transaction,
    settings: AppSettings,
    audit: Audit,
) -> Webhook:
    """Change an endpoint; fields not given keep their value."""
    before = await service.get_webhook(conn, webhook_id)
    webhook = await service.update_webhook(conn, settings, webhook_id, body)
    await audit("webhook.updated", "webhook", webhook.id, before=before, after=webhook)
    return webhook


@router.delete(
    "/{webhook_id}",
    operation_id="deleteWebhook",
    status_code=204,
    response_class=Response,
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def delete_webhook(
    webhook_id: UUID, actor: CurrentAdmin, conn: Transaction, audit: Audit
) -> None:
    """Remove an endpoint and its delivery log."""
    before = await service.get_webhook(conn, webhook_id)
    await service.delete_webhook(conn, webhook_id)
    await audit("webhook.deleted", "webhook", webhook_id, before=before)


@router.post(
    "/{webhook_id}/rotate-secret",
    operation_id="rotateWebhookSecret",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def rotate_secret(
    webhook_id: UUID, actor: CurrentAdmin, conn: Transaction, audit: Audit
) -> WebhookWithSecret:
    """Replace the signing secret; the new one is in this answer and never shown again."""
    before = await service.get_webhook(conn, webhook_id)
    webhook = await service.rotate_secret(conn, webhook_id)
    await audit("webhook.secret_rotated", "webhook", webhook.id, before=before, after=webhook)
    return webhook


@router.get(
    "/{webhook_id}/deliveries",
    operation_id="listWebhookDeliveries",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, InvalidInput),
)
async def list_deliveries(
    webhook_id: UUID,
    actor: CurrentAdmin,
    conn: Transaction,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=100), PlainInteger] = 25,
) -> DeliveryPage:
    """The endpoint's deliveries, newest first: event, answer, duration, attempts."""
    return await service.list_deliveries(conn, webhook_id, cursor=cursor, limit=limit)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    operation_id="redeliverWebhook",
    status_code=202,
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def redeliver(
    webhook_id: UUID, delivery_id: UUID, actor: CurrentAdmin, conn: Transaction, audit: Audit
) -> Delivery:
    """Send a delivery's message again (same webhook-id), as a new delivery."""
    delivery = await service.redeliver(conn, webhook_id, delivery_id)
    await audit(
        "webhook.redelivered",
        "webhook",
        webhook_id,
        after={"delivery_id": str(delivery_id), "new_delivery": delivery.model_dump(mode="json")},
    )
    return delivery
