"""What every ale-sync task shares: its Celery options, which failures it retries, and its one
canonical log line (`task_finished`, with its ids, counts, duration and outcome)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import ParamSpec, Protocol, cast

import kombu.exceptions
import psycopg
import redis.exceptions
import structlog
from celery import Task, current_task
from psycopg import errors as pg_errors
from sqlalchemy.exc import DBAPIError

from config.logging import unit_of_work
from config.redaction import SafeMessage
from worker.celery_app import app

logger = structlog.get_logger(__name__)

P = ParamSpec("P")
# what a task returns: its outcome and counts, logged on its canonical line (Celery keeps no results)
Outcome = dict[str, str | int | None]


class TransientFailure(SafeMessage, Exception):
    """A failure worth retrying as is: the database or broker connection, a serialization or
    deadlock abort. The message names only the underlying error type."""


# psycopg raises its base OperationalError for a lost or refused connection
_TRANSIENT_DB_ERRORS = (
    pg_errors.SerializationFailure,
    pg_errors.DeadlockDetected,
    pg_errors.AdminShutdown,
    pg_errors.CannotConnectNow,
)


def is_transient(exc: BaseException) -> bool:
    """True for database failures a retry can cure; never for bad data or a bug."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    return isinstance(orig, _TRANSIENT_DB_ERRORS) or type(orig) is psycopg.OperationalError


def transient_failure(exc: Exception) -> TransientFailure | None:
    if isinstance(exc, DBAPIError) and is_transient(exc):
        return TransientFailure(type(exc.orig).__name__)
    return None


class SyncTask(Task):  # type: ignore[misc]  # celery ships no type hints: its Task is Any to mypy
    """Options every ale-sync task shares, stated here rather than left to defaults."""

    # acknowledge after the task ran: a worker killed mid-task leaves the message to be
    # redelivered to another worker rather than lost (the task is idempotent)
    acks_late = True
    # ... and a pool process killed by a signal or OOM counts as "not done" too
    reject_on_worker_lost = True
    # connection drops and serialization/deadlock aborts cure themselves; bad data does not
    autoretry_for = (TransientFailure, kombu.exceptions.OperationalError, redis.exceptions.ConnectionError)
    # 2 s, 4 s, 8 s ... up to 5 min, jittered so workers hit by the same outage spread out
    retry_backoff = 2
    retry_backoff_max = 300
    retry_jitter = True
    max_retries = 8


class RegisteredTask(Protocol[P]):
    """The part of a Celery task ale-sync uses: run it in-process, or queue it."""

    name: str

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Outcome: ...

    def apply_async(self, *, kwargs: dict[str, object] | None = None, **options: object) -> object: ...


def sync_task(name: str, **options: object) -> Callable[[Callable[P, Outcome]], RegisteredTask[P]]:
    """Register BODY as the Celery task NAME with SyncTask's options (plus OPTIONS), logging its
    canonical line under the name without the `ale_sync.` prefix."""

    def register(body: Callable[P, Outcome]) -> RegisteredTask[P]:
        logged = canonical(name.removeprefix("ale_sync."))(body)
        return cast(RegisteredTask[P], app.task(base=SyncTask, name=name, **options)(logged))

    return register


def canonical(name: str) -> Callable[[Callable[P, Outcome]], Callable[P, Outcome]]:
    """Bind the task's ids to every log line, and end with one `task_finished` line."""

    def decorate(body: Callable[P, Outcome]) -> Callable[P, Outcome]:
        @functools.wraps(body)
        def run(*args: P.args, **kwargs: P.kwargs) -> Outcome:
            task_id = current_task.request.id if current_task else None
            ids = {k: v for k, v in kwargs.items() if k.endswith("_id") and v is not None}
            started = time.monotonic()
            with unit_of_work(task_id=task_id, task=name, **ids):
                try:
                    outcome = body(*args, **kwargs)
                except Exception as exc:
                    transient = _finish_failed(exc, started)
                    if transient is not None:
                        raise transient from exc
                    raise
                logger.info("task_finished", duration_ms=_since(started), **outcome)
            return outcome

        return run

    return decorate


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _finish_failed(exc: Exception, started: float) -> TransientFailure | None:
    """Log the failed run's canonical line; a database failure worth retrying comes back wrapped."""
    failure = transient_failure(exc)
    retrying = failure is not None or isinstance(exc, SyncTask.autoretry_for)
    outcome = "retrying" if retrying else "failed"
    logger.warning("task_finished", outcome=outcome, error=type(exc).__name__, duration_ms=_since(started))
    return failure
