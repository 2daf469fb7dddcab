"""What a delivery's body looks like in each format, and how a JSON one is signed.

The JSON body is the event itself (``type``, ``timestamp``, ``data``), signed per the
Standard Webhooks spec: ``webhook-signature`` is ``v1,`` and the base64 HMAC-SHA256 of
``{webhook-id}.{webhook-timestamp}.{body}`` keyed by the secret's base64 part (after
``whsec_``). Slack and Discord get their incoming-webhook message shapes; what the public
wrote (titles, names) is escaped for Slack and cannot mention anyone on Discord.
"""

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret

_HEADLINES = {
    "ticket.created": "New ticket",
    "ticket.assigned": "Ticket assigned",
    "ticket.status_changed": "Ticket status changed",
    "ticket.commented": "New comment",
    "ticket.resolved": "Ticket resolved",
    "ticket.closed": "Ticket closed",
    "ticket.escalated": "Ticket escalated",
    "ticket.sla_breached": "SLA breached",
    "ticket.merged": "Ticket merged",
    "ticket.unmerged": "Ticket merge undone",
}


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header's value for ``body``."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _summary(payload: dict[str, Any]) -> tuple[str, str | None]:
    """A one-line headline and, for comments, the comment's text."""
    data = payload["data"]
    ticket = data["ticket"]
    actor = data.get("actor")
    by = f" by {actor['name']}" if actor else ""
    headline = f"{_HEADLINES[payload['type']]}{by}: #{ticket['number']} {ticket['title']}"
    change = data.get("change") or {}
    if payload["type"] == "ticket.assigned" and change.get("field") == "team":
        to = change.get("to")
        headline += f" → team {to['name']}" if to else " → no team"
    elif payload["type"] == "ticket.assigned":
        to = change.get("to")
        headline += f" → {to['name']}" if to else " → nobody"
    elif payload["type"] == "ticket.status_changed":
        headline += f" ({change.get('from')} → {change.get('to')})"
    elif payload["type"] in ("ticket.merged", "ticket.unmerged"):
        headline += f" (into #{data['merge']['main']['number']})"
    elif payload["type"] == "ticket.escalated":
        escalation = data["escalation"]
        headline += f" ({escalation['priority']}, no staff reply in {escalation['after_hours']} h)"
    elif payload["type"] == "ticket.sla_breached":
        target = data["sla"]["target"].replace("_", " ")
        headline += f" ({target} was due {data['sla']['due_at']}, policy {data['sla']['policy']})"
    comment = data.get("comment")
    detail = None
    if comment:
        label = "Internal note" if comment["is_internal"] else "Reply"
        detail = f"{label}: {comment['body']}"
    return headline, detail


def _slack_escaped(text: str) -> str:
    """``text`` as Slack shows it literally: no ``<!channel>`` mentions or ``<url|label>``
    links from a ticket's title or a person's name."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def body(format: str, payload: dict[str, Any]) -> bytes:
    """The bytes to send for ``payload`` in ``format``."""
    if format == "json":
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    headline, detail = _summary(payload)
    url = payload["data"]["ticket"]["url"]
    message: dict[str, Any]
    if format == "slack":
        headline = _slack_escaped(headline)
        text = f"{headline} <{url}|Open>"
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}}
        ]
        if detail:
            blocks.append(
                {"type": "section", "text": {"type": "plain_text", "text": detail[:2900]}}
            )
        message = {"text": headline, "blocks": blocks}
    else:
        embed: dict[str, Any] = {"title": headline[:256], "url": url}
        if detail:
            embed["description"] = detail[:4000]
        # Titles and names come from the public: nothing in them may ping anyone.
        message = {
            "content": headline[:2000],
            "embeds": [embed],
            "allowed_mentions": {"parse": []},
        }
    return json.dumps(message, ensure_ascii=False).encode()
