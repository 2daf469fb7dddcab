"""The periodic sweep of attachment objects that no row names.

Uploads clean up after themselves when they fail; this catches what a process that
died mid-upload, or a removal that failed after a delete was committed, left behind.
"""

import logging

from procrastinate import JobContext

from ticketdesk import db
from ticketdesk.attachments import service
from ticketdesk.attachments.storage import open_storage
from ticketdesk.jobs.queue import job_env

log = logging.getLogger(__name__)

REMOVE_ORPHANS_TASK = "attachments.remove_orphans"
# Hourly; an object is removed by the first sweep a day after it lost (or never got) its row.
REMOVE_ORPHANS_CRON = "23 * * * *"


async def remove_orphans(context: JobContext, timestamp: int) -> None:
    """Remove stored objects that have had no row for a day (``timestamp``: the schedule's)."""
    env = job_env(context.additional_context)
    async with db.connection(env.pool) as conn:
        removed = await service.remove_orphans(conn, open_storage(env.settings))
    if removed:
        log.info("removed %d orphaned attachment objects", removed)


TASKS = {REMOVE_ORPHANS_TASK: remove_orphans}
# Task name → cron schedule, for the worker to register as periodic tasks.
PERIODIC = {REMOVE_ORPHANS_TASK: REMOVE_ORPHANS_CRON}
