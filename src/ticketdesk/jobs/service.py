"""What admins do with jobs: see the ones that gave up, and run one again; and how many
there are, for /metrics."""

from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from ticketdesk.db import Connection, connection
from ticketdesk.errors import Conflict, InvalidInput, NotFound
from ticketdesk.jobs.schemas import Job, JobPage
from ticketdesk.sql import execute, fetch_all, fetch_optional, fetch_optional_value, load_queries

Q = load_queries(__package__)


async def list_failed_jobs(conn: Connection, *, cursor: str | None, limit: int) -> JobPage:
    """Jobs that gave up, newest first, a page at a time."""
    before_id = None
    if cursor is not None:
        if not cursor.isdecimal():
            raise InvalidInput("The cursor is not valid.", code="bad_cursor", field="cursor")
        before_id = int(cursor)
    rows = await fetch_all(
        conn, Job, Q.list_failed_jobs, {"before_id": before_id, "limit": limit + 1}
    )
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return JobPage(items=rows[:limit], next_cursor=next_cursor)


async def get_job(conn: Connection, job_id: int) -> Job:
    """One job with its last error."""
    job = await fetch_optional(conn, Job, Q.get_job, {"job_id": job_id})
    if job is None:
        raise NotFound(f"Job {job_id} does not exist.", code="job_not_found")
    return job


async def retry_job(conn: Connection, job_id: int) -> Job:
    """Queue a failed job to run once more, now."""
    status = await fetch_optional_value(conn, str, Q.lock_job, {"job_id": job_id})
    if status is None:
        raise NotFound(f"Job {job_id} does not exist.", code="job_not_found")
    if status != "failed":
        raise Conflict(
            f"Only failed jobs can be retried; job {job_id} is {status}.",
            code="job_not_failed",
        )
    await execute(conn, Q.retry_failed_job, {"job_id": job_id})
    return await get_job(conn, job_id)


class JobCount(BaseModel):
    """How many jobs of one queue are in one state; ``due``: of those waiting, the ones
    whose time has come (the rest are scheduled for later)."""

    queue_name: str
    status: str
    jobs: int
    due: int


async def count_jobs(conn: Connection) -> list[JobCount]:
    """The jobs waiting, running and given up, by queue and state."""
    return await fetch_all(conn, JobCount, Q.count_jobs)


async def record_error(pool: AsyncConnectionPool, job_id: int, attempt: int, error: str) -> None:
    """Keep the error a job attempt ended with (already cleaned of secrets)."""
    async with connection(pool) as conn:
        await execute(
            conn, Q.insert_job_error, {"job_id": job_id, "attempt": attempt, "error": error}
        )
