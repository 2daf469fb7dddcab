"""Queueing jobs inside the caller's transaction, and deciding when a failed one runs again.

A job caused by a change is deferred on the change's own connection, so it commits or
vanishes with the change. Tasks signal what a failure means by what they raise:
``RetryAt`` (try again at a known time, e.g. when a rate limit lifts — not counted as a
failure), ``GiveUp`` (retrying cannot help), anything else (back off and retry, up to a
limit). A job that gives up stays in the queue as ``failed`` with its error.
"""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import procrastinate
from procrastinate.jobs import Job
from procrastinate.types import JSONValue
from psycopg_pool import AsyncConnectionPool

from ticketdesk.config import JobsSettings, Settings
from ticketdesk.db import Connection

# Only ever used with the caller's connection, so its connector is never opened.
_deferrer = procrastinate.App(connector=procrastinate.PsycopgConnector())

REDACTED = "[redacted]"
MAX_ERROR_CHARS = 2000


class RetryAt(Exception):
    """A task failed for now and knows when trying again makes sense."""

    def __init__(self, message: str, *, at: datetime) -> None:
        super().__init__(message)
        self.at = at


class GiveUp(Exception):
    """A task failed in a way retrying cannot fix."""


async def defer(
    conn: Connection,
    task_name: str,
    *,
    lock: str | None = None,
    run_at: datetime | None = None,
    **args: JSONValue,
) -> int:
    """Queue a job on ``conn``, inside its transaction; return the job's id.

    ``lock``: jobs sharing it run one at a time, in the order they were queued.
    ``run_at``: not before then (default: as soon as a worker is free).
    """
    deferrer = _deferrer.configure_task(task_name, lock=lock, schedule_at=run_at, connection=conn)
    job_id: int = await deferrer.defer_async(**args)
    return job_id


def is_last_attempt(job: Job, max_attempts: int) -> bool:
    """Whether ``job`` gives up for good if its running attempt fails."""
    return job.attempts + 1 >= max_attempts


@dataclass(frozen=True)
class Backoff(procrastinate.BaseRetryStrategy):
    """Exponential backoff with jitter and a cap; ``RetryAt`` waits are always granted."""

    base_seconds: float
    cap_seconds: float
    max_attempts: int

    @classmethod
    def from_settings(cls, settings: JobsSettings) -> "Backoff":
        """The backoff the ``jobs`` settings describe."""
        return cls(settings.retry_base_seconds, settings.retry_cap_seconds, settings.max_attempts)

    def delay(self, attempts: int) -> float:
        """Seconds to wait after ``attempts`` failed attempts (1 = the first failure)."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2.0 ** (attempts - 1))
        # "Equal jitter": spread retries of jobs that failed together, but keep half the wait.
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def get_retry_decision(
        self, *, exception: BaseException, job: Job
    ) -> procrastinate.RetryDecision | None:
        """When to run ``job`` again after it raised ``exception``, or ``None`` to give up."""
        if isinstance(exception, RetryAt):
            return procrastinate.RetryDecision(retry_at=max(exception.at, datetime.now(UTC)))
        if isinstance(exception, GiveUp) or is_last_attempt(job, self.max_attempts):
            return None
        failures = job.attempts + 1  # procrastinate counts attempts before this one
        retry_at = datetime.now(UTC) + timedelta(seconds=self.delay(failures))
        return procrastinate.RetryDecision(retry_at=retry_at)


@dataclass(frozen=True)
class JobEnv:
    """What a running task may use: the settings and the worker's connection pool."""

    settings: Settings
    pool: AsyncConnectionPool

    def secrets(self) -> list[str]:
        """Values that must never be written to logs, job records or errors."""
        token = self.settings.tickets.github.token
        smtp = self.settings.smtp
        return [
            *([token.get_secret_value()] if token is not None else []),
            *([smtp.password] if smtp is not None and smtp.password else []),
        ]


ENV_KEY = "ticketdesk"


def job_env(additional_context: dict[str, Any]) -> JobEnv:
    """The ``JobEnv`` a worker hands its tasks in the job context."""
    env = additional_context[ENV_KEY]
    assert isinstance(env, JobEnv)
    return env


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every secret blanked, cut to a length fit for storing."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text[:MAX_ERROR_CHARS]


def describe_error(exc: BaseException, secrets: list[str]) -> str:
    """An error as stored for admins: its type and message, secrets blanked."""
    return redact(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, secrets)
