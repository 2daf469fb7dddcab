"""The export jobs: writing an export's file, and removing expired exports hourly."""

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

from procrastinate import JobContext

from ticketdesk import db
from ticketdesk.attachments.storage import open_storage
from ticketdesk.exports import service, writer
from ticketdesk.jobs.queue import GiveUp, describe_error, is_last_attempt, job_env

log = logging.getLogger(__name__)

REMOVE_EXPIRED_TASK = "exports.remove_expired"
# Hourly: an export's file goes within the hour after its time is up.
REMOVE_EXPIRED_CRON = "17 * * * *"
# A file under exports/ with no row (its removal failed after the row went) is removed
# once it is this old.
ORPHAN_AGE = timedelta(days=1)


async def write(context: JobContext, export_id: str) -> None:
    """Write an export's file. A failure that retrying cannot mend, or the last attempt's,
    marks the export failed with its error; other failures are tried again from the start."""
    env = job_env(context.additional_context)
    try:
        await writer.write_export(env.pool, open_storage(env.settings), UUID(export_id))
    except Exception as exc:
        if isinstance(exc, GiveUp) or is_last_attempt(context.job, env.settings.jobs.max_attempts):
            async with db.connection(env.pool) as conn:
                await service.fail(conn, UUID(export_id), describe_error(exc, env.secrets()))
        raise


async def remove_expired(context: JobContext, timestamp: int) -> None:
    """Remove the exports whose time is up, their files after their rows; and files under
    exports/ that no row names (``timestamp``: the schedule's)."""
    env = job_env(context.additional_context)
    storage = open_storage(env.settings)
    removed = 0
    while True:
        async with db.transaction(env.pool) as conn:
            keys = await service.remove_expired(conn)
        removed += await storage.delete_all(keys)
        if len(keys) < service.EXPIRY_BATCH:
            break
    cutoff = datetime.now(UTC) - ORPHAN_AGE
    async with db.connection(env.pool) as conn:
        async for batch in storage.objects(prefix=service.KEY_PREFIX):
            old = [key for key, modified in batch if modified < cutoff]
            orphans = await service.unknown_keys(conn, old)
            removed += await storage.delete_all(orphans)
    if removed:
        log.info("removed %d expired export files", removed)


TASKS: dict[str, Callable[..., Awaitable[None]]] = {
    service.WRITE_TASK: write,
    REMOVE_EXPIRED_TASK: remove_expired,
}
# Task name → cron schedule, for the worker to register as periodic tasks.
PERIODIC: dict[str, str] = {REMOVE_EXPIRED_TASK: REMOVE_EXPIRED_CRON}
