"""Linking tickets to GitHub issues, and GitHub's webhook deliveries."""

from typing import Annotated

from fastapi import APIRouter, Header, Request, status

from ticketdesk.auth.dependencies import CurrentAgent
from ticketdesk.config import AppSettings
from ticketdesk.db import Pool, Transaction, transaction
from ticketdesk.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooLarge,
    Unauthorized,
    UnsupportedMediaType,
    problem_responses,
)
from ticketdesk.github import service, webhook
from ticketdesk.github.schemas import GitHubLink, GitHubLinkRequest, WebhookResult
from ticketdesk.tickets.access import get_visible_ticket
from ticketdesk.tickets.schemas import TicketRef

router = APIRouter(tags=["github"])


@router.post(
    "/tickets/{id}/github",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="linkGitHubIssue",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict, InvalidInput),
)
async def link_github_issue(
    id: TicketRef,
    body: GitHubLinkRequest,
    actor: CurrentAgent,
    conn: Transaction,
    settings: AppSettings,
) -> GitHubLink:
    """Link an existing GitHub issue, or create one; GitHub is called in the background."""
    ticket = await get_visible_ticket(conn, actor, id, for_update=True)
    return await service.request_link(conn, settings.tickets.github, actor, ticket, body)


@router.post(
    "/integrations/github/webhook",
    operation_id="receiveGitHubWebhook",
    responses=problem_responses(Unauthorized, TooLarge, UnsupportedMediaType, InvalidInput),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A GitHub webhook payload, signed with the webhook secret.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def receive_github_webhook(
    request: Request,
    pool: Pool,
    settings: AppSettings,
    x_github_event: Annotated[str | None, Header()] = None,
    x_github_delivery: Annotated[str | None, Header(max_length=100)] = None,
    x_hub_signature_256: Annotated[str | None, Header()] = None,
) -> WebhookResult:
    """Receive a GitHub webhook delivery (issues, issue_comment, ping).

    Refused before its body is read: no webhook secret configured or no
    `X-Hub-Signature-256` (401), another event or a missing `X-GitHub-Delivery` (422),
    a content type other than JSON (415), a declared body over 25 MB (413); a body sent
    without its length is refused with a 413 as soon as it passes 25 MB. A signed
    payload GitHub would never send (a field of the wrong type or out of range, text
    PostgreSQL cannot store, not a JSON object) is a 422 `bad_payload` naming the field,
    and the delivery is recorded as rejected. With the integration disabled, a signed
    delivery is answered `ignored`, its payload neither checked nor recorded.
    """
    github = settings.tickets.github
    # Whatever can be refused from the headers is, before a byte of the body (up to
    # 25 MB) is read; the body is then hashed as it arrives.
    if github.webhook_secret is None:
        raise Unauthorized(
            "No webhook secret is configured, so no delivery can be trusted.",
            code="webhook_secret_unset",
        )
    if not x_hub_signature_256:
        raise Unauthorized("X-Hub-Signature-256 is missing.", code="missing_signature")
    if not x_github_event or not x_github_delivery:
        raise InvalidInput(
            "X-GitHub-Event and X-GitHub-Delivery are required.", code="missing_header"
        )
    if x_github_event not in webhook.EVENTS:
        raise InvalidInput(
            f"Only {', '.join(sorted(webhook.EVENTS))} deliveries are taken.",
            code="unsupported_event",
            field="X-GitHub-Event",
        )
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise UnsupportedMediaType(
            "Set the webhook's content type to application/json.", code="unsupported_media_type"
        )
    secret = github.webhook_secret.get_secret_value().encode()
    body = await webhook.read_signed_body(request.stream(), secret, x_hub_signature_256)
    if not github.enabled:
        # Whatever it holds: neither read nor recorded.
        return WebhookResult(outcome="ignored")
    try:
        payload = webhook.parse_payload(x_github_event, body)
    except webhook.RejectedPayload as rejected:
        async with transaction(pool) as conn:
            await service.record_rejected_delivery(
                conn, x_github_delivery, x_github_event, rejected.action
            )
        raise
    # The transaction starts once the body is in: a slow sender holds no connection.
    async with transaction(pool) as conn:
        outcome = await webhook.receive(
            conn,
            event=x_github_event,
            delivery_id=x_github_delivery,
            payload=payload,
            reopen_window=settings.reopen_window,
        )
    return WebhookResult(outcome=outcome)
