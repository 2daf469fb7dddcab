"""Admin view of background jobs: the ones that gave up, and retrying one."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from ticketdesk.auth.dependencies import Audit, CurrentAdmin
from ticketdesk.db import Transaction
from ticketdesk.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
    problem_responses,
)
from ticketdesk.jobs import service
from ticketdesk.jobs.schemas import Job, JobPage
from ticketdesk.validation import PlainInteger

router = APIRouter(tags=["admin"])


@router.get(
    "/admin/jobs",
    operation_id="listJobs",
    responses=problem_responses(Unauthorized, Forbidden, InvalidInput),
)
async def list_jobs(
    actor: CurrentAdmin,
    conn: Transaction,
    status: Annotated[
        Literal["failed"], Query(description="Only failed jobs are listed.")
    ] = "failed",
    cursor: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=100), PlainInteger] = 25,
) -> JobPage:
    """Jobs that gave up after their retries, newest first, with their last error."""
    return await service.list_failed_jobs(conn, cursor=cursor, limit=limit)


@router.post(
    "/admin/jobs/{job_id}/retry",
    operation_id="retryJob",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def retry_job(
    job_id: Annotated[int, Path(ge=1), PlainInteger],
    actor: CurrentAdmin,
    conn: Transaction,
    audit: Audit,
) -> Job:
    """Run a failed job once more, now."""
    job = await service.retry_job(conn, job_id)
    await audit("job.retried", "job", job.id, after={"task_name": job.task_name})
    return job
