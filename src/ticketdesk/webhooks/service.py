"""Webhook endpoints admins manage, and the deliveries ticket changes cause.

``on_change`` runs in the change's transaction: for each active endpoint subscribed to
the change's events it writes a delivery (the payload as of the change, and a Standard
Webhooks message id) and defers one ``webhooks.deliver`` job, so both commit or vanish
with the change. Changes about internal notes go only to endpoints that are staff-only
and ask for notes (``include_internal``); every other endpoint never hears of them.

The job (``tasks.deliver``) sends the delivery to the endpoint as it is set up then,
in order: one ticket's deliveries to one endpoint share a procrastinate lock, so a
later one waits while an earlier one is being retried. It retries with its own backoff
(``webhooks.*`` settings, about a day); when its last attempt fails, the delivery fails
and the endpoint is marked failing for admins, until a later delivery succeeds. An
admin can deliver any message again: a new delivery with the same message id, so a
receiver that already took it can tell.
"""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import uuid_utils
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from ticketdesk.auth.service import Actor
from ticketdesk.changes import Change
from ticketdesk.comments import service as comments
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.errors import Conflict, InvalidInput, NotFound
from ticketdesk.fields import service as fields
from ticketdesk.jobs.queue import defer
from ticketdesk.sql import (
    execute,
    fetch_all,
    fetch_one,
    fetch_optional,
    fetch_optional_value,
    load_queries,
)
from ticketdesk.teams import service as teams
from ticketdesk.tickets.access import get_visible_ticket
from ticketdesk.users import service as users
from ticketdesk.webhooks import messages, targets
from ticketdesk.webhooks.schemas import (
    Delivery,
    DeliveryPage,
    Event,
    Webhook,
    WebhookCreate,
    WebhookList,
    WebhookUpdate,
    WebhookWithSecret,
)

Q = load_queries(__package__)

DELIVER_TASK = "webhooks.deliver"
# Marks a stored payload that holds staff-only custom field values (never sent itself).
_STAFF_FIELDS = "staff_only_fields"

# Reads tickets and notes for payloads: staff eyes, since endpoints are set up by admins
# and internal notes are filtered by endpoint before anything is read.
_READER = Actor(id=UUID(int=0), email="webhooks@localhost", name="Webhooks", role="admin")


def _new_id() -> UUID:
    return UUID(str(uuid_utils.uuid7()))


# --- endpoints, for admins ------------------------------------------------------------


async def _checked_url(url: str, settings: Settings) -> str:
    """``url`` as it is stored, if webhooks may go there."""
    try:
        await targets.resolve(url, allow_private=settings.webhooks.allow_private_targets)
        return targets.normalised(url)
    except (targets.TargetRefused, targets.Unresolved) as exc:
        raise InvalidInput(f"The URL {exc}.", code="webhook_url_refused", field="url") from None


# Events about staff business: only staff-only endpoints take them.
STAFF_ONLY_EVENTS: frozenset[str] = frozenset({"ticket.escalated", "ticket.sla_breached"})


def _check_audience(
    staff_only: bool, include_internal: bool, events: list[Event], *, blame: str = "events"
) -> None:
    """Refuse staff business for an endpoint that is not staff-only, naming ``blame`` (the
    field the request changed) as the one at fault."""
    if not staff_only and STAFF_ONLY_EVENTS.intersection(events):
        raise InvalidInput(
            "Only a staff-only endpoint may receive ticket.escalated or ticket.sla_breached.",
            code="event_needs_staff_only",
            field=blame,
        )
    if include_internal and not staff_only:
        raise InvalidInput(
            "Only a staff-only endpoint may receive internal notes.",
            code="internal_needs_staff_only",
            field="include_internal",
        )


async def list_webhooks(conn: Connection) -> WebhookList:
    """Every endpoint, by name."""
    return WebhookList(items=await fetch_all(conn, Webhook, Q.list_webhooks, {}))


async def get_webhook(conn: Connection, webhook_id: UUID) -> Webhook:
    """One endpoint, without its secret."""
    webhook = await fetch_optional(conn, Webhook, Q.get_webhook, {"webhook_id": webhook_id})
    if webhook is None:
        raise NotFound(f"Webhook {webhook_id} does not exist.", code="webhook_not_found")
    return webhook


async def create_webhook(
    conn: Connection, settings: Settings, body: WebhookCreate
) -> WebhookWithSecret:
    """A new endpoint, with its secret (shown this once)."""
    _check_audience(body.staff_only, body.include_internal, body.events)
    url = await _checked_url(body.url, settings)
    return await fetch_one(
        conn,
        WebhookWithSecret,
        Q.insert_webhook,
        {
            **body.model_dump(),
            "url": url,
            "events": sorted(set(body.events)),
            "id": _new_id(),
            "secret": messages.new_secret(),
        },
    )


async def update_webhook(
    conn: Connection, settings: Settings, webhook_id: UUID, body: WebhookUpdate
) -> Webhook:
    """Change an endpoint's fields; those not given keep their value."""
    current = await get_webhook(conn, webhook_id)
    merged = {**current.model_dump(), **body.model_dump(exclude_unset=True, exclude_none=True)}
    _check_audience(
        merged["staff_only"],
        merged["include_internal"],
        merged["events"],
        blame="events" if body.events is not None else "staff_only",
    )
    if body.url is not None:
        merged["url"] = await _checked_url(body.url, settings)
    merged["events"] = sorted(set(merged["events"]))
    return await fetch_one(conn, Webhook, Q.update_webhook, {**merged, "webhook_id": webhook_id})


async def rotate_secret(conn: Connection, webhook_id: UUID) -> WebhookWithSecret:
    """Replace an endpoint's secret; the new one is shown this once."""
    rotated = await fetch_optional(
        conn,
        WebhookWithSecret,
        Q.rotate_secret,
        {"webhook_id": webhook_id, "secret": messages.new_secret()},
    )
    if rotated is None:
        raise NotFound(f"Webhook {webhook_id} does not exist.", code="webhook_not_found")
    return rotated


async def delete_webhook(conn: Connection, webhook_id: UUID) -> None:
    """Remove an endpoint and its delivery log; its pending deliveries are dropped."""
    if await fetch_optional_value(conn, UUID, Q.delete_webhook, {"webhook_id": webhook_id}) is None:
        raise NotFound(f"Webhook {webhook_id} does not exist.", code="webhook_not_found")


async def list_deliveries(
    conn: Connection, webhook_id: UUID, *, cursor: str | None, limit: int
) -> DeliveryPage:
    """An endpoint's deliveries, newest first, a page at a time."""
    await get_webhook(conn, webhook_id)
    before_id = None
    if cursor is not None:
        try:
            before_id = UUID(cursor)
        except ValueError:
            raise InvalidInput(
                "The cursor is not valid.", code="bad_cursor", field="cursor"
            ) from None
    rows = await fetch_all(
        conn,
        Delivery,
        Q.list_deliveries,
        {"webhook_id": webhook_id, "before_id": before_id, "limit": limit + 1},
    )
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return DeliveryPage(items=rows[:limit], next_cursor=next_cursor)


async def redeliver(conn: Connection, webhook_id: UUID, delivery_id: UUID) -> Delivery:
    """Send a delivery's message again, as a new delivery with the same message id."""
    webhook = await get_webhook(conn, webhook_id)
    if not webhook.is_active:
        raise Conflict(
            f"Webhook {webhook_id} is switched off; switch it on first.", code="webhook_inactive"
        )
    copy = await fetch_optional(
        conn,
        Delivery,
        Q.copy_delivery,
        {"id": _new_id(), "delivery_id": delivery_id, "webhook_id": webhook_id},
    )
    if copy is None:
        raise NotFound(f"Delivery {delivery_id} does not exist.", code="delivery_not_found")
    await defer(conn, DELIVER_TASK, delivery_id=str(copy.id))
    return copy


# --- queueing -------------------------------------------------------------------------


class _Subscribed(BaseModel):
    id: UUID
    events: list[str]
    staff_only: bool


def events_of(change: Change) -> list[Event]:
    """The webhook events a change to a ticket is."""
    match change.kind:
        case "created":
            return ["ticket.created"]
        case "assigned" | "team_changed":
            return ["ticket.assigned"]
        case "commented":
            return ["ticket.commented"]
        case "status_changed":
            to = change.data.get("to")
            if to == "resolved":
                return ["ticket.status_changed", "ticket.resolved"]
            if to == "closed":
                return ["ticket.status_changed", "ticket.closed"]
            return ["ticket.status_changed"]
        case "escalated":
            return ["ticket.escalated"]
        case "sla_breached":
            return ["ticket.sla_breached"]
        # Told once, from the duplicate's side (the main ticket's event says the same).
        case "merged" if change.data.get("role") == "duplicate":
            return ["ticket.merged"]
        case "unmerged" if change.data.get("role") == "duplicate":
            return ["ticket.unmerged"]
    return []


async def _payload(
    conn: Connection, change: Change, event: Event, *, staff: bool
) -> dict[str, Any]:
    """The message of ``event``; custom fields that are staff-only only when ``staff`` (the
    endpoint is staff-only), and then the message says so (``Target.still_wanted``)."""
    ticket = await get_visible_ticket(conn, _READER, str(change.ticket_id))
    values = (await fields.values_for(conn, [ticket.id], staff=staff)).get(ticket.id, {})
    data: dict[str, Any] = {
        "ticket": {
            "id": str(ticket.id),
            "number": ticket.number,
            "title": ticket.title,
            "type": ticket.type,
            "priority": ticket.priority,
            "status": ticket.status,
            "custom_fields": values,
            "team": None,
        },
        "actor": None,
    }
    if ticket.team_id is not None:
        team = (await teams.team_refs(conn, [ticket.team_id]))[ticket.team_id]
        data["ticket"]["team"] = {"id": str(team.id), "name": team.name}
    if change.actor_id is not None:
        found = await users.users_by_id(conn, [change.actor_id])
        if found:
            data["actor"] = {"id": str(found[0].id), "name": found[0].name}
    if change.kind == "escalated":
        data["escalation"] = {
            "priority": change.data["priority"],
            "after_hours": change.data["after_hours"],
        }
    if change.kind == "sla_breached":
        data["sla"] = {
            "target": change.data["target"],
            "due_at": change.data["due_at"],
            "policy": change.data["policy"],
        }
    if change.kind in ("merged", "unmerged"):
        main = change.data["main"]
        data["merge"] = {
            "duplicate": {"id": str(ticket.id), "number": ticket.number},
            "main": {"id": main["id"], "number": main["number"]},
            "comments_moved": change.data.get("comments", 0),
            "attachments_moved": change.data.get("attachments", 0),
        }
    if change.kind in ("assigned", "team_changed", "status_changed"):
        data["change"] = {"from": change.data.get("from"), "to": change.data.get("to")}
    if change.kind in ("assigned", "team_changed"):
        # What was assigned: the agent, or the team.
        data["change"]["field"] = "team" if change.kind == "team_changed" else "assignee"
    if change.kind == "commented":
        comment = await comments.get_comment(conn, _READER, UUID(change.data["comment_id"]))
        data["comment"] = {
            "id": str(comment.id),
            "body": comment.body,
            "is_internal": comment.is_internal,
            "author": {"id": str(comment.author.id), "name": comment.author.name},
        }
    payload: dict[str, Any] = {
        "type": event,
        "timestamp": datetime.now(UTC).isoformat(),
        "data": data,
    }
    if staff and values != (await fields.values_for(conn, [ticket.id], staff=False)).get(
        ticket.id, {}
    ):
        # Kept with the delivery, never sent: staff-only values go to staff-only endpoints.
        payload[_STAFF_FIELDS] = True
    return payload


def _without_team(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` for an endpoint that not only staff read: without the ticket's team."""
    ticket = {k: v for k, v in payload["data"]["ticket"].items() if k != "team"}
    return {**payload, "data": {**payload["data"], "ticket": ticket}}


async def on_change(conn: Connection, change: Change) -> None:
    """Queue a delivery to each endpoint subscribed to the change, in its transaction."""
    events = events_of(change)
    if not events:
        return
    subscribed = await fetch_all(
        conn,
        _Subscribed,
        Q.subscribed_webhooks,
        {
            "events": events,
            # A staff-only change; about a note (a comment), it also needs include_internal.
            # Teams are staff's (a submitter never sees a ticket's team).
            "staff": change.is_internal or change.kind == "team_changed",
            "note": change.is_internal and change.kind == "commented",
        },
    )
    payloads: dict[tuple[str, bool], dict[str, Any]] = {}
    for webhook in subscribed:
        for event in events:
            if event not in webhook.events:
                continue
            audience = (event, webhook.staff_only)
            if audience not in payloads:
                payloads[audience] = await _payload(conn, change, event, staff=webhook.staff_only)
            payload = payloads[audience]
            if not webhook.staff_only:
                payload = _without_team(payload)
            delivery_id = _new_id()
            await execute(
                conn,
                Q.insert_delivery,
                {
                    "id": delivery_id,
                    "webhook_id": webhook.id,
                    "message_id": f"msg_{delivery_id.hex}",
                    "event": event,
                    "payload": Jsonb(payload),
                },
            )
            # One ticket's deliveries to one endpoint go one at a time, in order: a later
            # one waits while an earlier one is retried.
            await defer(
                conn,
                DELIVER_TASK,
                lock=f"webhook:{webhook.id}:{change.ticket_id}",
                delivery_id=str(delivery_id),
            )


# --- delivering -----------------------------------------------------------------------


class Target(BaseModel):
    """A delivery, and the endpoint it goes to as that is set up now."""

    id: UUID
    status: str
    message_id: str
    event: str
    payload: dict[str, Any]
    webhook_id: UUID
    url: str
    format: str
    secret: str
    is_active: bool
    staff_only: bool
    include_internal: bool

    def still_wanted(self) -> bool:
        """Whether the endpoint still takes this message."""
        comment = self.payload["data"].get("comment")
        note = bool(comment and comment["is_internal"])
        team = (self.payload["data"].get("change") or {}).get("field") == "team"
        staff = (
            note or team or self.event in STAFF_ONLY_EVENTS or bool(self.payload.get(_STAFF_FIELDS))
        )
        return (
            self.is_active
            and (not staff or self.staff_only)
            and (not note or self.include_internal)
        )


async def delivery_target(conn: Connection, delivery_id: UUID) -> Target | None:
    """A delivery and its endpoint, or ``None`` when the endpoint was deleted."""
    return await fetch_optional(conn, Target, Q.delivery_target, {"delivery_id": delivery_id})


def request(target: Target, settings: Settings, *, now: datetime) -> tuple[bytes, dict[str, str]]:
    """The body and headers of the delivery's POST, signed; the ticket's link is added now."""
    payload = {k: v for k, v in target.payload.items() if k != _STAFF_FIELDS}
    # An endpoint no longer staff-only since the change was queued: the team stays out.
    payload = payload if target.staff_only else _without_team(payload)
    ticket = payload["data"]["ticket"]
    ticket["url"] = f"{settings.public_url}/tickets/{ticket['number']}"
    body = messages.body(target.format, payload)
    timestamp = int(now.timestamp())
    return body, {
        "content-type": "application/json",
        "user-agent": "ticketdesk-webhooks",
        "webhook-id": target.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": messages.sign(target.secret, target.message_id, timestamp, body),
    }


async def record_attempt(
    conn: Connection,
    target: Target,
    *,
    status: str,
    response: targets.Response | None = None,
    error: str | None = None,
) -> None:
    """Log an attempt; a success clears the endpoint's failing mark, a final failure sets it."""
    await execute(
        conn,
        Q.record_attempt,
        {
            "delivery_id": target.id,
            "status": status,
            "status_code": response.status_code if response else None,
            "duration_ms": response.duration_ms if response else None,
            "response_excerpt": response.excerpt if response else None,
            "error": error,
        },
    )
    if status == "succeeded":
        await execute(conn, Q.mark_webhook_ok, {"webhook_id": target.webhook_id})
    elif status == "failed":
        await execute(
            conn,
            Q.mark_webhook_failing,
            {"webhook_id": target.webhook_id, "error": error or "failed"},
        )
