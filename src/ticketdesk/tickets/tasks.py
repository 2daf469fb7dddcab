"""Timed rules, run periodically: escalating tickets left without a staff reply, closing
tickets left resolved, and reading SLA clocks as targets turn at risk or breached.

Every worker schedules them; the queue lets one job through per tick. Should two runs
meet all the same (a tick's job retried while a late one runs), each ticket is still
escalated, closed or found in breach once: the queries lock what they change and skip
what another run holds (``tickets.service.escalate_overdue``, ``close_resolved``,
``check_sla_clocks``).
"""

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from procrastinate import JobContext

from ticketdesk import db
from ticketdesk.jobs.queue import job_env
from ticketdesk.tickets import service

log = logging.getLogger(__name__)

ESCALATE_TASK = "tickets.escalate"
# Every five minutes: a ticket is escalated at most five minutes late.
ESCALATE_CRON = "*/5 * * * *"
AUTO_CLOSE_TASK = "tickets.auto_close"
# Hourly: a resolved ticket closes within the hour after its days are up.
AUTO_CLOSE_CRON = "41 * * * *"
SLA_TASK = "tickets.sla"
# Every minute: a ticket turns at risk or breached at most a minute late.
SLA_CRON = "* * * * *"


async def escalate(context: JobContext, timestamp: int) -> None:
    """Escalate the tickets left too long without a staff reply (``escalation``
    settings; ``timestamp``: the schedule's)."""
    env = job_env(context.additional_context)
    rule = env.settings.escalation
    total = 0
    while True:
        async with db.connection(env.pool) as conn, conn.transaction():
            done = await service.escalate_overdue(
                conn, priority=rule.priority, after_hours=rule.after_hours
            )
        total += done
        if done < service.TIMED_BATCH:
            break
    if total:
        log.info("escalated %d %s tickets to admins", total, rule.priority)


async def auto_close(context: JobContext, timestamp: int) -> None:
    """Close tickets resolved ``tickets.auto_close_days`` ago with no public reply since
    (none when it is 0; ``timestamp``: the schedule's)."""
    env = job_env(context.additional_context)
    days = env.settings.tickets.auto_close_days
    if days == 0:
        return
    total = 0
    while True:
        async with db.connection(env.pool) as conn, conn.transaction():
            done = await service.close_resolved(conn, days=days)
        total += done
        if done < service.TIMED_BATCH:
            break
    if total:
        log.info("closed %d tickets resolved more than %d days ago", total, days)


async def check_sla(context: JobContext, timestamp: int) -> None:
    """Read the SLA clocks due for a look: targets at risk, breaches recorded once each
    (``timestamp``: the schedule's; the clocks are read at it, or now if that is later)."""
    env = job_env(context.additional_context)
    now = max(datetime.now(UTC), datetime.fromtimestamp(timestamp, UTC))
    total = 0
    while True:
        async with db.connection(env.pool) as conn, conn.transaction():
            done = await service.check_sla_clocks(conn, now=now)
        total += done
        if done < service.TIMED_BATCH:
            break
    if total:
        log.info("read the SLA clocks of %d tickets", total)


TASKS: dict[str, Callable[..., Awaitable[None]]] = {
    ESCALATE_TASK: escalate,
    AUTO_CLOSE_TASK: auto_close,
    SLA_TASK: check_sla,
}
# Task name → cron schedule, for the worker to register as periodic tasks.
PERIODIC: dict[str, str] = {
    ESCALATE_TASK: ESCALATE_CRON,
    AUTO_CLOSE_TASK: AUTO_CLOSE_CRON,
    SLA_TASK: SLA_CRON,
}
