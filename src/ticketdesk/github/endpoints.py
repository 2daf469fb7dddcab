"""Linking tickets to GitHub issues, and GitHub's webhook deliveries."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, status

from ticketdesk.auth.dependencies import CurrentAgent
from ticketdesk.config import AppSettings
from ticketdesk.db import Transaction
from ticketdesk.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
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
    responses=problem_responses(Unauthorized, InvalidInput, UnsupportedMediaType),
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
    conn: Transaction,
    settings: AppSettings,
    x_github_event: Annotated[str | None, Header()] = None,
    x_github_delivery: Annotated[str | None, Header(max_length=100)] = None,
    x_hub_signature_256: Annotated[str | None, Header()] = None,
) -> WebhookResult:
    """Receive a GitHub webhook delivery (issues, issue_comment, ping)."""
    github = settings.tickets.github
    body = await request.body()
    if github.webhook_secret is None:
        raise Unauthorized(
            "No webhook secret is configured, so no delivery can be trusted.",
            code="webhook_secret_unset",
        )
    secret = github.webhook_secret.get_secret_value().encode()
    if not webhook.signature_matches(secret, body, x_hub_signature_256):
        raise Unauthorized("X-Hub-Signature-256 does not match the body.", code="bad_signature")
    if not x_github_event or not x_github_delivery:
        raise InvalidInput(
            "X-GitHub-Event and X-GitHub-Delivery are required.", code="missing_header"
        )
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise UnsupportedMediaType(
            "Set the webhook's content type to application/json.", code="unsupported_media_type"
        )
    payload = _json_object(body)
    if not github.enabled:
        return WebhookResult(outcome="ignored")
    outcome = await webhook.receive(
        conn,
        event=x_github_event,
        delivery_id=x_github_delivery,
        payload=payload,
        reopen_window=settings.reopen_window,
    )
    return WebhookResult(outcome=outcome)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise InvalidInput("The body is not a JSON object.", code="bad_payload")
    return payload
