"""Ops decide on a held batch: approve applies it as it stands, reject closes it; both are audited."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from config.logging import unit_of_work
from models import AuditAction, AuditEntry, Batch, BatchStatus
from models.db import lock_district, transaction
from models.pause import PAUSE_HOLD_REASON
from worker.ingest.ledger import BatchNotHeld, IngestResult, locked_batch, now, result_of
from worker.ingest.pipeline import run_batch
from worker.outbox import publish_committed
from worker.sources.delivery import open_delivery
from worker.sources.errors import DeliveryRejected


def approve_batch(engine: Engine, batch_id: int, decided_by: str) -> IngestResult:
    """Apply a held batch without the safety check; approving it again changes nothing.

    A delivery a pause held was never read: approving it runs the whole ingest, safety check
    included, and only after every older one the pause held.
    """
    result = _approve(engine, batch_id, decided_by)
    if result.status == BatchStatus.APPLIED:
        publish_committed(engine, result.district_id)
    return result


def _approve(engine: Engine, batch_id: int, decided_by: str) -> IngestResult:
    with unit_of_work(batch_id=batch_id), transaction(engine) as session:
        batch = _decidable(session, batch_id, BatchStatus.APPLIED)
        if batch.status != BatchStatus.HELD:
            return result_of(batch)
        _refuse_if_superseded(session, batch)
        if open_delivery(Path(batch.location)).checksum() != batch.checksum:
            raise DeliveryRejected(
                "delivery_changed", f"batch {batch_id}: the delivery changed since it was held"
            )
        paused = batch.hold_reason == PAUSE_HOLD_REASON
        if paused:
            _refuse_if_older_paused(session, batch)
            batch.status, batch.started_at = BatchStatus.INGESTING, now()
        batch.hold_reason = None
        result = run_batch(session, batch_id, force=not paused)
        _decided(session, batch, decided_by, AuditAction.BATCH_APPROVE)
        return result


def reject_batch(engine: Engine, batch_id: int, decided_by: str, reason: str) -> IngestResult:
    """Close a held batch unapplied; rejecting it again changes nothing."""
    with unit_of_work(batch_id=batch_id), transaction(engine) as session:
        batch = _decidable(session, batch_id, BatchStatus.REJECTED)
        if batch.status != BatchStatus.HELD:
            return result_of(batch)
        batch.status, batch.reject_reason = BatchStatus.REJECTED, reason
        _decided(session, batch, decided_by, AuditAction.BATCH_REJECT)
        return result_of(batch)


def _decidable(session: Session, batch_id: int, target: BatchStatus) -> Batch:
    """The held batch, locked with its district; one already decided the same way is returned as is."""
    batch = locked_batch(session, batch_id)
    lock_district(session, "ingest", batch.district_id)
    if batch.status == BatchStatus.HELD or (batch.status == target and batch.decided_by):
        return batch
    raise BatchNotHeld(f"batch {batch_id} is {batch.status}, not held")


def _refuse_if_superseded(session: Session, batch: Batch) -> None:
    """A newer batch of the district already applied: applying this older one would roll its data back."""
    newer = session.execute(
        select(func.max(Batch.id)).where(
            Batch.district_id == batch.district_id, Batch.id > batch.id, Batch.status == BatchStatus.APPLIED
        )
    ).scalar_one()
    if newer is not None:
        raise BatchNotHeld(f"batch {batch.id} is superseded by applied batch {newer}; reject it instead")


def _refuse_if_older_paused(session: Session, batch: Batch) -> None:
    """Deliveries a pause held apply in the order they arrived."""
    older = session.execute(
        select(func.min(Batch.id)).where(
            Batch.district_id == batch.district_id,
            Batch.id < batch.id,
            Batch.status == BatchStatus.HELD,
            Batch.hold_reason == PAUSE_HOLD_REASON,
        )
    ).scalar_one()
    if older is not None:
        raise BatchNotHeld(
            f"batch {older}, held by the same pause, arrived first; approve or reject it first"
        )


def _decided(session: Session, batch: Batch, decided_by: str, action: AuditAction) -> None:
    batch.decided_by, batch.decided_at = decided_by, now()
    session.add(
        AuditEntry(
            district_id=batch.district_id,
            actor_kind="ops",
            action=action,
            batch_id=batch.id,
            detail={"decided_by": decided_by, "status": str(batch.status)},
        )
    )
