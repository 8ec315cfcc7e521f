"""Thin Celery tasks: take ids, re-fetch, call the plain functions in worker/sync.py.

Every task is idempotent (a repeated message changes nothing) and logs one canonical line,
`task_finished`, with its ids, counts, duration and outcome.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

import kombu.exceptions
import psycopg
import redis.exceptions
import structlog
from celery import Task, current_task
from psycopg import errors as pg_errors
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from config.logging import unit_of_work
from config.redaction import SafeMessage
from config.settings import get_settings
from models import District
from models.db import get_engine, transaction
from worker import sync
from worker.celery_app import app
from worker.enqueue import enqueue_ingest, enqueue_match_district, enqueue_pull
from worker.limits import INGEST_SOFT_TIME_LIMIT, INGEST_TIME_LIMIT
from worker.outbox import SWEEP_MIN_AGE_SECONDS, publish_pending
from worker.single_flight import release_pending
from worker.task_names import (
    INGEST_BATCH,
    MATCH_DISTRICT,
    NIGHTLY_REMATCH,
    PUBLISH_OUTBOX,
    PULL_ALL_SOURCES,
    PULL_DISTRICT,
)

logger = structlog.get_logger(__name__)

F = TypeVar("F", bound=Callable[..., dict[str, Any]])


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


class SyncTask(Task):  # type: ignore[misc]
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


def canonical(name: str) -> Callable[[F], F]:
    """Bind the task's ids to every log line, and end with one `task_finished` line."""

    def decorate(body: F) -> F:
        @functools.wraps(body)
        def run(*args: Any, **kwargs: Any) -> dict[str, Any]:
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

        return run  # type: ignore[return-value]

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


# ---- tasks -----------------------------------------------------------------------------------


@app.task(base=SyncTask, name=PULL_ALL_SOURCES)
@canonical("pull_all_sources")
def pull_all_sources_task() -> dict[str, Any]:
    """Beat: queue a pull of every configured district (collapsed with pulls already queued)."""
    districts = sorted({s.district for s in get_settings().sis_sources})
    queued = [d for d in districts if enqueue_pull(d) is not None]
    return {"outcome": "ok", "districts": len(districts), "queued": len(queued)}


@app.task(base=SyncTask, name=PULL_DISTRICT)
@canonical("pull_district")
def pull_district_task(*, district_id: str) -> dict[str, Any]:
    """Register the district's new deliveries and queue the ingest of the newest waiting batch."""
    release_pending("pull", district_id)
    waiting = sync.pull_district(get_engine(), district_id)
    if waiting:
        # the ingest task applies every older waiting batch first, in order
        enqueue_ingest(waiting[-1])
    return {"outcome": "ok", "waiting_batches": len(waiting)}


@app.task(
    base=SyncTask,
    name=INGEST_BATCH,
    # a 1,000,000-row bulk file takes minutes; both limits stay below the visibility timeout
    soft_time_limit=INGEST_SOFT_TIME_LIMIT,
    time_limit=INGEST_TIME_LIMIT,
)
@canonical("ingest_batch")
def ingest_batch_task(*, batch_id: int) -> dict[str, Any]:
    """Ingest the batch (after any older waiting one of its district); a done batch is a no-op."""
    results = sync.ingest_in_order(get_engine(), batch_id)
    if not results:
        return {"outcome": "gone"}
    # each batch's own canonical line (ingest.batch_finished) comes from the ingest itself
    last = results[-1]
    return {"outcome": str(last.status), "district_id": last.district_id, "batches": len(results)}


@app.task(base=SyncTask, name=MATCH_DISTRICT)
@canonical("match_district")
def match_district_task(*, district_id: str, batch_id: int | None = None) -> dict[str, Any]:
    """Re-check every unlinked created record of the district (after a batch, nightly, resync)."""
    # cleared before the pass reads anything, so a change committed from now on queues a new run
    release_pending("match", district_id)
    engine = get_engine()
    if batch_id is not None:
        # this run may stand for several collapsed batch events: credit the newest applied one
        batch_id = sync.newest_applied_batch(engine, district_id) or batch_id
    summary = sync.match_one_district(engine, district_id, batch_id)
    return {"outcome": "ok", **pass_counts(summary)}


def pass_counts(summary: Any) -> dict[str, int]:
    return {k: int(getattr(summary, k)) for k in ("linked", "held", "waiting", "suggested")}


@app.task(base=SyncTask, name=PUBLISH_OUTBOX)
@canonical("publish_outbox")
def publish_outbox_task() -> dict[str, Any]:
    """The sweep: send events their edge could not (Redis down, process killed after commit)."""
    report = publish_pending(get_engine(), older_than_seconds=SWEEP_MIN_AGE_SECONDS)
    return {"outcome": "ok", "published": report.published, "failed": report.failed}


@app.task(base=SyncTask, name=NIGHTLY_REMATCH)
@canonical("nightly_rematch")
def nightly_rematch_task() -> dict[str, Any]:
    """Queue a full match of every district: catches anything an event-driven pass missed."""
    with transaction(get_engine()) as session:
        districts = list(session.scalars(select(District.id).order_by(District.id)))
    queued = [d for d in districts if enqueue_match_district(d) is not None]
    return {"outcome": "ok", "districts": len(districts), "queued": len(queued)}
