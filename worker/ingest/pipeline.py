"""Ingest one registered batch: all of it or none of it, under the district's ingest lock.

The work runs in one transaction, so a process killed at any point leaves nothing applied
and running the batch again completes it. The `ingesting` status is committed on its own
first, so ops can see a batch in progress (or one whose process died).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import structlog
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from config.logging import unit_of_work
from config.settings import SourceConfig, get_settings
from matching.core.vocabulary import Topic
from models import Batch, BatchStatus
from models.db import get_engine, lock_district, session_factory, transaction
from models.outbox import record_event
from worker.ingest.apply import apply_batch, refresh_statistics, write_quarantine
from worker.ingest.ledger import (
    FINISHED,
    IngestResult,
    locked_batch,
    now,
    record_outcome,
    result_of,
)
from worker.ingest.outcome import IngestPlan, count_outcomes, hold_reason, quarantine_entries
from worker.ingest.stage import StagedDelivery, stage_delivery
from worker.ingest.steps import at_step, failure_of
from worker.ingest.workspace import workspace
from worker.metrics.process import observe_ingest
from worker.outbox import publish_committed
from worker.sources.delivery import format_of, open_delivery
from worker.sources.errors import DeliveryRejected
from worker.sources.state import advance_watermark

logger = structlog.get_logger(__name__)


def source_of(batch: Batch) -> SourceConfig:
    """The configured source a batch came from; a bundle given on the command line gets the defaults."""
    for source in get_settings().sources_for(batch.district_id):
        if source.name == batch.source_name:
            return source
    location = Path(batch.location)
    return SourceConfig(
        district=batch.district_id, name=batch.source_name, inbox=location.parent, format=format_of(location)
    )


def ingest_batch(engine: Engine, batch_id: int) -> IngestResult:
    """Ingest a registered batch; a batch already applied, held or rejected returns its recorded result."""
    with unit_of_work(batch_id=batch_id):
        started = time.monotonic()
        with transaction(engine) as session:
            batch = locked_batch(session, batch_id)
            if batch.status in FINISHED:
                return result_of(batch)
            batch.status, batch.started_at = BatchStatus.INGESTING, now()
        try:
            with transaction(engine) as session:
                result = run_batch(session, batch_id, force=False)
        except DeliveryRejected as rejected:
            result = _record_rejection(engine, batch_id, rejected)
        except Exception as error:
            _record_failure(engine, batch_id, error)
            observe_ingest(None, str(BatchStatus.FAILED), time.monotonic() - started, {})
            raise
        if result.status == BatchStatus.APPLIED:
            # whoever applies a batch (worker, `ale-sync ingest`) sends its event at once;
            # the sweep is only the fallback
            publish_committed(engine, result.district_id)
        seconds = time.monotonic() - started
        observe_ingest(_kind_of(engine, batch_id), str(result.status), seconds, result.counts)
        logger.info(
            "ingest.batch_finished",
            district_id=result.district_id,
            status=str(result.status),
            seconds=round(seconds, 3),
            **result.counts,
        )
        return result


def _kind_of(engine: Engine, batch_id: int) -> str | None:
    with transaction(engine) as session:
        return session.scalar(select(Batch.kind).where(Batch.id == batch_id))


@dataclass(frozen=True)
class CheckedDelivery:
    """A staged delivery, what it would do, and whether that calls for a hold."""

    staged: StagedDelivery
    counts: dict[str, int]
    rows_total: int
    hold_reason: str | None


def check_delivery(
    session: Session, path: Path, source: SourceConfig, *, check_hold: bool
) -> CheckedDelivery:
    """Stage and check a delivery and count what it would do, in the caller's transaction."""
    settings = get_settings()
    at_step("opening the delivery")
    staged = stage_delivery(session, open_delivery(path), source, settings.ssid_pattern)
    at_step("counting what the batch would do")
    counts, rows_total, valid_active = count_outcomes(session, staged)
    held = None
    if check_hold:
        held = hold_reason(
            counts,
            active=staged.active_before,
            valid_active=valid_active,
            bulk=staged.kind == "bulk",
            share=settings.deactivation_threshold,
        )
    return CheckedDelivery(staged, counts, rows_total, held)


def run_batch(session: Session, batch_id: int, force: bool) -> IngestResult:
    """Stage, check and apply (or hold) a batch inside the caller's transaction."""
    at_step("taking the district's ingest lock")
    district_id = session.execute(select(Batch.district_id).where(Batch.id == batch_id)).scalar_one()
    lock_district(session, "ingest", district_id)
    batch = locked_batch(session, batch_id)
    if batch.status in FINISHED and not force:
        return result_of(batch)
    with workspace(session):
        checked = check_delivery(session, Path(batch.location), source_of(batch), check_hold=not force)
        staged, counts = checked.staged, checked.counts
        if checked.hold_reason:
            write_quarantine(session, district_id, batch_id, staged, any_rows=counts["quarantined"] > 0)
            batch.hold_reason = checked.hold_reason
            status = BatchStatus.HELD
        else:
            apply_batch(session, district_id, batch_id, staged, counts)
            status = BatchStatus.APPLIED
    if status == BatchStatus.APPLIED:
        at_step("refreshing statistics")
        refresh_statistics(session, district_id, counts)
        record_event(session, Topic.BATCH_APPLIED, district_id, batch_id=batch_id)
        advance_watermark(session, batch)
    at_step("recording the batch")
    record_outcome(batch, status, counts, checked.rows_total, staged.kind)
    return result_of(batch)


def dry_run(path: Path, source: SourceConfig) -> IngestPlan:
    """The plan for a delivery, computed in a transaction that is always rolled back."""
    with session_factory(get_engine())() as session:
        try:
            with workspace(session):
                checked = check_delivery(session, path, source, check_hold=True)
                return IngestPlan(
                    district_id=source.district,
                    kind=checked.staged.kind,
                    counts=checked.counts,
                    rows_total=checked.rows_total,
                    quarantined_rows=quarantine_entries(session),
                    hold_reason=checked.hold_reason,
                )
        except DeliveryRejected as rejected:
            return IngestPlan(
                district_id=source.district, kind=None, counts={}, reject_reason=rejected.reason
            )
        finally:
            session.rollback()


def _record_rejection(engine: Engine, batch_id: int, rejected: DeliveryRejected) -> IngestResult:
    with transaction(engine) as session:
        batch = locked_batch(session, batch_id)
        lock_district(session, "ingest", batch.district_id)
        batch.reject_reason = rejected.reason
        record_outcome(batch, BatchStatus.REJECTED, {}, 0, batch.kind)
        return result_of(batch)


def _record_failure(engine: Engine, batch_id: int, error: Exception) -> None:
    failure = failure_of(error)
    logger.error("ingest.batch_failed", error_type=type(error).__name__, failure=failure)
    with transaction(engine) as session:
        batch = locked_batch(session, batch_id)
        batch.status, batch.error, batch.finished_at = BatchStatus.FAILED, failure, now()
