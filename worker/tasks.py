"""Thin Celery tasks: take ids, call the plain functions in worker/sync.py, report the outcome.

Every task is idempotent (a repeated message changes nothing); its options, retry rule and
canonical log line come from worker/task_base.py.
"""

from __future__ import annotations

from models.db import get_engine
from worker import sync
from worker.enqueue import enqueue_ingest, enqueue_match_district, enqueue_pull
from worker.limits import INGEST_SOFT_TIME_LIMIT, INGEST_TIME_LIMIT
from worker.metrics import worker_endpoint  # noqa: F401 - serves WORKER_METRICS_PORT once the worker is ready
from worker.notify.mail import mail_configured
from worker.notify.run import notify_round
from worker.outbox import SWEEP_MIN_AGE_SECONDS, publish_pending
from worker.single_flight import release_pending
from worker.task_base import Outcome, sync_task
from worker.task_names import (
    INGEST_BATCH,
    MATCH_DISTRICT,
    NIGHTLY_REMATCH,
    PUBLISH_OUTBOX,
    PULL_ALL_SOURCES,
    PULL_DISTRICT,
    SEND_NOTIFICATIONS,
)


@sync_task(PULL_ALL_SOURCES)
def pull_all_sources_task() -> Outcome:
    """Beat: queue a pull of every configured district (collapsed with pulls already queued)."""
    districts = sync.configured_districts()
    queued = [d for d in districts if enqueue_pull(d) is not None]
    return {"outcome": "ok", "districts": len(districts), "queued": len(queued)}


@sync_task(PULL_DISTRICT)
def pull_district_task(*, district_id: str) -> Outcome:
    """Register the district's new deliveries and queue the ingest of the newest waiting batch."""
    release_pending("pull", district_id)
    waiting = sync.pull_district(get_engine(), district_id)
    if waiting:
        # the ingest task applies every older waiting batch first, in order
        enqueue_ingest(waiting[-1], district_id)
    return {"outcome": "ok", "waiting_batches": len(waiting)}


# a 1,000,000-row bulk file takes minutes; both limits stay below the visibility timeout
@sync_task(INGEST_BATCH, soft_time_limit=INGEST_SOFT_TIME_LIMIT, time_limit=INGEST_TIME_LIMIT)
def ingest_batch_task(*, batch_id: int) -> Outcome:
    """Ingest the batch (after any older waiting one of its district); a done batch is a no-op."""
    results = sync.ingest_in_order(get_engine(), batch_id)
    if not results:
        return {"outcome": "gone"}
    # each batch's own canonical line (ingest.batch_finished) comes from the ingest itself
    last = results[-1]
    return {"outcome": str(last.status), "district_id": last.district_id, "batches": len(results)}


@sync_task(MATCH_DISTRICT)
def match_district_task(*, district_id: str, batch_id: int | None = None) -> Outcome:
    """Re-check every unlinked created record of the district (after a batch, nightly, resync)."""
    # cleared before the pass reads anything, so a change committed from now on queues a new run
    release_pending("match", district_id)
    summary = sync.match_after_batches(get_engine(), district_id, batch_id)
    return {"outcome": "ok", **sync.pass_counts(summary)}


@sync_task(PUBLISH_OUTBOX)
def publish_outbox_task() -> Outcome:
    """The sweep: send events their edge could not (Redis down, process killed after commit)."""
    report = publish_pending(get_engine(), older_than_seconds=SWEEP_MIN_AGE_SECONDS)
    return {"outcome": "ok", "published": report.published, "failed": report.failed}


@sync_task(NIGHTLY_REMATCH)
def nightly_rematch_task() -> Outcome:
    """Queue a full match of every district: catches anything an event-driven pass missed."""
    districts = sync.stored_districts(get_engine())
    queued = [d for d in districts if enqueue_match_district(d) is not None]
    return {"outcome": "ok", "districts": len(districts), "queued": len(queued)}


@sync_task(SEND_NOTIFICATIONS)
def send_notifications_task() -> Outcome:
    """Beat: alerts for held, rejected and failed batches and silent districts; the daily digests."""
    if not mail_configured():
        return {"outcome": "no_smtp_host"}
    report = notify_round(get_engine())
    return {"outcome": "ok", "alerts": report.alerts, "digests": report.digests}
