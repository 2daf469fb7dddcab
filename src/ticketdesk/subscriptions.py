"""Who acts on a ticket change, in order: the timeline first, then what mirrors it and who is told.

Every entry point (the app, the worker, the CLI) calls ``install`` before it changes
anything. A new kind of reaction to changes (mail, webhooks, live updates) is one more
entry in ``SUBSCRIBERS``; the services that make changes do not change.
"""

from ticketdesk import broadcast, changes
from ticketdesk.csat import service as csat
from ticketdesk.db import Connection
from ticketdesk.events import service as events
from ticketdesk.github import service as github
from ticketdesk.notifications import service as notifications
from ticketdesk.reports import service as reports
from ticketdesk.webhooks import service as webhooks


async def record_and_announce(conn: Connection, change: changes.Change) -> None:
    """Write the change's event row, and announce it to the live streams at commit."""
    event_id = await events.record(conn, change)
    await broadcast.announce_event(conn, event_id)


SUBSCRIBERS: tuple[changes.Subscriber, ...] = (
    # The event row (the ticket's timeline and audit trail), and its NOTIFY for the
    # live streams of every API process (ticketdesk.live), delivered at commit.
    record_and_announce,
    # A satisfaction rating round when a ticket is resolved or closed (before the mail
    # that asks for it is queued).
    csat.on_change,
    # Issues and comments mirrored to GitHub, as jobs.
    github.on_change,
    # Mail to the people on the ticket, as jobs.
    notifications.on_change,
    # Deliveries to the webhook endpoints admins set up, as jobs.
    webhooks.on_change,
    # The daily rollups the reports read.
    reports.on_change,
)


def install() -> None:
    """Let ``SUBSCRIBERS`` hear about every change."""
    changes.install(SUBSCRIBERS)
