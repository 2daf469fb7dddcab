"""Folding the rows the ticket changes added into the report rollups, every minute, so
that they stay few even when nobody reads a report."""

from collections.abc import Awaitable, Callable

from procrastinate import JobContext

from ticketdesk import db
from ticketdesk.jobs.queue import job_env
from ticketdesk.reports import service

FOLD_TASK = "reports.fold"


async def fold(context: JobContext, timestamp: int) -> None:
    """Fold the changes' rows into the rollups (``timestamp``: the schedule's)."""
    env = job_env(context.additional_context)
    async with db.transaction(env.pool) as conn:
        await service.fold(conn)


TASKS: dict[str, Callable[..., Awaitable[None]]] = {FOLD_TASK: fold}
PERIODIC: dict[str, str] = {FOLD_TASK: "* * * * *"}
