"""Running jobs: ``ticketdesk worker`` and the worker ``ticketdesk serve`` runs in-process.

With ``imap_url`` set, the worker also reads replies from that mailbox
(``ticketdesk.mailbox.poller``).

This is where every domain's tasks are gathered (``TASKS``, ``PERIODIC``); queueing a
job, from inside a change's transaction, is ``ticketdesk.jobs.queue``.

Workers scale horizontally: each fetches due jobs from PostgreSQL (woken by NOTIFY, and
polling as a fallback). Each failed attempt's error is kept in ``job_errors``. Jobs
left running by a worker that died (no heartbeat) are put back in the queue by the
next worker that notices.
"""

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import procrastinate
import procrastinate.exceptions
from procrastinate.job_context import JobContext
from procrastinate.middleware import AsyncCallNext
from procrastinate.tasks import Task
from procrastinate.worker import Worker
from psycopg_pool import AsyncConnectionPool

from ticketdesk import db, subscriptions
from ticketdesk.attachments import tasks as attachments_tasks
from ticketdesk.attachments.storage import open_storage
from ticketdesk.audit import service as audit
from ticketdesk.auth import tasks as auth_tasks
from ticketdesk.config import Settings
from ticketdesk.exports import tasks as exports_tasks
from ticketdesk.github import service as github
from ticketdesk.github import tasks as github_tasks
from ticketdesk.jobs import service
from ticketdesk.jobs.queue import ENV_KEY, Backoff, JobEnv, describe_error, job_env
from ticketdesk.mailbox.poller import run_poller
from ticketdesk.notifications import service as notifications
from ticketdesk.notifications import tasks as notifications_tasks
from ticketdesk.reports import tasks as reports_tasks
from ticketdesk.tickets import tasks as tickets_tasks
from ticketdesk.webhooks import tasks as webhooks_tasks

log = logging.getLogger(__name__)

AUDIT_PRUNE_TASK = "audit.prune"
# Hourly: an entry is deleted within the hour after its retention is up.
AUDIT_PRUNE_CRON = "17 * * * *"


async def prune_audit(context: JobContext, timestamp: int) -> None:
    """Delete the audit entries older than ``audit.retention_days`` (``timestamp``: the
    schedule's). Here rather than in a tasks.py of its own: the audit domain sits below
    the job queue, on the same row."""
    env = job_env(context.additional_context)
    days = env.settings.audit.retention_days
    total = 0
    while True:
        async with db.transaction(env.pool) as conn:
            done = await audit.prune(conn, days=days)
        total += done
        if done < audit.PRUNE_BATCH:
            break
    if total:
        log.info("deleted %d audit entries older than %d days", total, days)


# Every task a worker can run, by name: each domain's tasks.py lists its own, and the
# cron schedule of those that run periodically.
TASKS: dict[str, Callable[..., Awaitable[None]]] = {
    **github_tasks.TASKS,
    **attachments_tasks.TASKS,
    **auth_tasks.TASKS,
    **notifications_tasks.TASKS,
    **webhooks_tasks.TASKS,
    **tickets_tasks.TASKS,
    **exports_tasks.TASKS,
    **reports_tasks.TASKS,
    AUDIT_PRUNE_TASK: prune_audit,
}
PERIODIC: dict[str, str] = {
    **attachments_tasks.PERIODIC,
    **tickets_tasks.PERIODIC,
    **exports_tasks.PERIODIC,
    **reports_tasks.PERIODIC,
    AUDIT_PRUNE_TASK: AUDIT_PRUNE_CRON,
}
# Tasks with a retry policy of their own, made from the settings; the rest use ``jobs``'.
RETRY: dict[str, Callable[[Settings], Backoff]] = {**webhooks_tasks.RETRY}
# A stopping worker lets running jobs finish for this long, then aborts (and retries) them.
SHUTDOWN_GRACE_SECONDS = 10.0


def create_queue(settings: Settings, *, max_connections: int = 2) -> procrastinate.App:
    """A procrastinate app with ticketdesk's tasks and the configured retry policy.

    Its connector, once opened, has a pool of its own: procrastinate's LISTEN connection
    copies the pool's connection arguments and adds ``autocommit``, which clashes with
    the app pool's.
    """
    queue = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=settings.database_url,
            min_size=1,
            max_size=max_connections,
            name="ticketdesk-queue",
        )
    )
    retry = Backoff.from_settings(settings.jobs)
    for name, function in TASKS.items():
        policy = RETRY[name](settings) if name in RETRY else retry
        task: Task[..., Awaitable[None], ...] = queue.task(
            name=name, pass_context=True, retry=policy
        )(function)
        if name in PERIODIC:
            # Every worker schedules it; the database lets one job per tick through.
            queue.periodic(cron=PERIODIC[name], periodic_id=name, queueing_lock=name)(task)
    return queue


async def _record_failures(call_next: AsyncCallNext, context: JobContext, worker: Worker) -> Any:
    """Keep the error of every failed attempt, without secrets, for admins to read."""
    try:
        return await call_next()
    except Exception as exc:
        env = job_env(context.additional_context)
        job = context.job
        assert job.id is not None
        try:
            await service.record_error(
                env.pool, job.id, job.attempts + 1, describe_error(exc, env.secrets())
            )
        except Exception:
            log.warning("could not record the error of job %s", job.id, exc_info=True)
        raise


async def _rerun_stalled_jobs(queue: procrastinate.App, settings: Settings) -> None:
    """Put back in the queue, now and then, the jobs of workers that stopped beating."""
    interval = settings.jobs.stalled_after_seconds
    while True:
        for job in await queue.job_manager.get_stalled_jobs(seconds_since_heartbeat=interval):
            log.warning("job %s was left running by a dead worker; running it again", job.id)
            # Another worker may have beaten us to it.
            with contextlib.suppress(procrastinate.exceptions.ConnectorException):
                await queue.job_manager.retry_job(job)
        await asyncio.sleep(interval)


async def run_worker(
    settings: Settings,
    *,
    pool: AsyncConnectionPool | None = None,
    concurrency: int | None = None,
    install_signal_handlers: bool = True,
) -> None:
    """Run jobs until cancelled, or until SIGINT/SIGTERM with ``install_signal_handlers``.

    Tasks use ``pool`` for their own queries (without it, the worker opens and closes
    one); ``concurrency`` (jobs at once) defaults to ``settings.jobs.concurrency``.
    """
    subscriptions.install()
    jobs = concurrency or settings.jobs.concurrency
    own_pool = pool is None
    if pool is None:
        assert settings.database_url is not None, "the CLI resolves the database first"
        pool = await db.open_pool(settings.database_url, max_size=jobs + 4)
    try:
        async with db.connection(pool) as conn:
            await github.publish_settings(conn, settings.tickets.github)
            await notifications.publish_settings(conn, settings)
        queue = create_queue(settings, max_connections=jobs + 2)
        async with queue.open_async():
            stalled = asyncio.create_task(_rerun_stalled_jobs(queue, settings))
            background = [stalled]
            if settings.imap is not None:
                poller = run_poller(settings.imap, pool, open_storage(settings), settings)
                background.append(asyncio.create_task(poller, name="IMAP poller"))
            try:
                await queue.run_worker_async(
                    name=f"{socket.gethostname()}-{os.getpid()}",
                    concurrency=jobs,
                    fetch_job_polling_interval=settings.jobs.poll_interval_seconds,
                    abort_job_polling_interval=settings.jobs.poll_interval_seconds,
                    update_heartbeat_interval=settings.jobs.stalled_after_seconds / 3,
                    stalled_worker_timeout=settings.jobs.stalled_after_seconds,
                    shutdown_graceful_timeout=SHUTDOWN_GRACE_SECONDS,
                    # Successful jobs leave nothing to look at; failed ones stay.
                    delete_jobs="successful",
                    additional_context={ENV_KEY: JobEnv(settings=settings, pool=pool)},
                    install_signal_handlers=install_signal_handlers,
                    worker_middleware=[_record_failures],
                )
            finally:
                for task in background:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
    finally:
        if own_pool:
            await pool.close()


@contextlib.asynccontextmanager
async def alongside_app(
    settings: Settings, pool: AsyncConnectionPool, *, run_jobs: bool
) -> AsyncIterator[None]:
    """For the app's lifespan: publish the GitHub and mail settings for the change hooks and, with
    ``run_jobs``, run a worker in-process on the app's pool until the app stops."""
    async with db.connection(pool) as conn:
        await github.publish_settings(conn, settings.tickets.github)
        await notifications.publish_settings(conn, settings)
    if not run_jobs:
        yield
        return
    task = asyncio.create_task(
        run_worker(settings, pool=pool, install_signal_handlers=False), name="job worker"
    )
    try:
        yield
    finally:
        await stop(task)


async def stop(task: "asyncio.Task[None]") -> None:
    """Cancel a ``run_worker`` task and wait until it has stopped.

    A cancellation that lands while a library is between two awaits of its own (opening
    the queue's connections, say) can be lost, and the worker would then run on; so it is
    asked again each time the graceful shutdown's time has passed without an end.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=SHUTDOWN_GRACE_SECONDS + 5)
    with contextlib.suppress(asyncio.CancelledError):
        await task
