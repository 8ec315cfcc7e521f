"""The batch ledger as the ingest sees it: a batch's recorded result and its status changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from config.redaction import SafeMessage
from models import Batch, BatchKind, BatchStatus
from worker.ingest.outcome import COUNT_KEYS

FINISHED = {BatchStatus.APPLIED, BatchStatus.HELD, BatchStatus.REJECTED}


class BatchNotFound(SafeMessage, LookupError):
    """No batch with that id."""


class BatchNotHeld(SafeMessage, ValueError):
    """Only a held batch can be approved or rejected."""


@dataclass(frozen=True)
class IngestResult:
    batch_id: int
    district_id: str
    status: BatchStatus
    counts: dict[str, int]
    reason: str | None
    duration_seconds: float


def result_of(batch: Batch) -> IngestResult:
    """The result a batch's ledger row records."""
    duration = 0.0
    if batch.started_at and batch.finished_at:
        duration = (batch.finished_at - batch.started_at).total_seconds()
    return IngestResult(
        batch_id=batch.id,
        district_id=batch.district_id,
        status=BatchStatus(batch.status),
        counts={key: getattr(batch, key) for key in COUNT_KEYS},
        reason=batch.reject_reason or batch.hold_reason or batch.error,
        duration_seconds=duration,
    )


def locked_batch(session: Session, batch_id: int) -> Batch:
    batch = session.execute(select(Batch).where(Batch.id == batch_id).with_for_update()).scalar_one_or_none()
    if batch is None:
        raise BatchNotFound(f"batch {batch_id} not found")
    return batch


def record_outcome(
    batch: Batch, status: BatchStatus, counts: dict[str, int], rows_total: int, kind: str | None
) -> None:
    batch.status = status
    batch.rows_total = rows_total
    batch.kind = BatchKind(kind) if kind else None
    for key in COUNT_KEYS:
        setattr(batch, key, counts.get(key, 0))
    batch.finished_at = now()
    if batch.started_at is None:
        batch.started_at = batch.finished_at


def now() -> datetime:
    return datetime.now(UTC)


def recorded_result(engine: Engine, batch_id: int) -> IngestResult:
    with Session(engine) as session:
        return result_of(locked_batch(session, batch_id))
