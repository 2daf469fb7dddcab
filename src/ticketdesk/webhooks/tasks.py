"""Delivering webhooks: one job per delivery, with its own backoff of about a day.

What a delivery carries and when an endpoint is marked failing is in
``webhooks.service``'s docstring; where a delivery may go, in ``webhooks.targets``.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from uuid import UUID

import httpx
from procrastinate import JobContext

from ticketdesk import db
from ticketdesk.config import Settings
from ticketdesk.jobs.queue import Backoff, GiveUp, describe_error, is_last_attempt, job_env
from ticketdesk.webhooks import service, targets


class DeliveryFailed(Exception):
    """The endpoint did not take the delivery this time: it is tried again later."""


def retry_policy(settings: Settings) -> Backoff:
    """The backoff of delivery jobs: the ``webhooks`` settings, not the queue's."""
    hooks = settings.webhooks
    return Backoff(hooks.retry_base_seconds, hooks.retry_cap_seconds, hooks.max_attempts)


async def deliver(context: JobContext, delivery_id: str) -> None:
    """POST one delivery to its endpoint; a non-2xx answer, no answer or a name that does
    not resolve is retried, a refused URL or any unexpected error fails the delivery at
    once."""
    env = job_env(context.additional_context)
    settings = env.settings
    async with db.connection(env.pool) as conn:
        target = await service.delivery_target(conn, UUID(delivery_id))
        if target is None or target.status != "pending":
            return  # the endpoint was deleted, or this delivery was settled already
        if not target.still_wanted():
            await service.record_attempt(
                conn, target, status="cancelled", error="The endpoint no longer takes it."
            )
            return
    last = is_last_attempt(context.job, settings.webhooks.max_attempts)
    response: targets.Response | None = None
    try:
        addresses = await targets.resolve(
            target.url, allow_private=settings.webhooks.allow_private_targets
        )
        body, headers = service.request(target, settings, now=datetime.now(UTC))
        response = await targets.post(
            target.url, addresses, body, headers, within_seconds=settings.webhooks.timeout_seconds
        )
    except targets.Unresolved as exc:
        error = f"The URL {exc}."  # DNS may answer next time
    except (httpx.HTTPError, TimeoutError) as exc:
        error = describe_error(exc, [])
    except Exception as exc:
        # A refused URL cannot change by retrying; anything unexpected is settled as failed
        # too, so a delivery is never left pending while the same POST is sent again.
        if isinstance(exc, targets.TargetRefused):
            error = f"The URL {exc}."
        else:
            error = describe_error(exc, [])
        async with db.connection(env.pool) as conn:
            await service.record_attempt(conn, target, status="failed", error=error)
        raise GiveUp(error) from exc
    else:
        if 200 <= response.status_code < 300:
            async with db.connection(env.pool) as conn:
                await service.record_attempt(conn, target, status="succeeded", response=response)
            return
        error = f"The endpoint answered {response.status_code}."
    async with db.connection(env.pool) as conn:
        await service.record_attempt(
            conn, target, status="failed" if last else "pending", response=response, error=error
        )
    raise DeliveryFailed(error)


TASKS: dict[str, Callable[..., Awaitable[None]]] = {service.DELIVER_TASK: deliver}
RETRY: dict[str, Callable[[Settings], Backoff]] = {service.DELIVER_TASK: retry_policy}
