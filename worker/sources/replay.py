"""Replay an archived delivery (after fixing a source's mapping, say): a new batch of the same content,
`replay_of` the original, ingested with the source's settings as they are now."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from config.redaction import SafeMessage
from models import Batch, BatchStatus
from models.db import lock_district, transaction
from worker.ingest import BatchNotFound

REPLAYABLE = (BatchStatus.APPLIED, BatchStatus.REJECTED, BatchStatus.FAILED)


class ReplayRefused(SafeMessage, ValueError):
    """This batch cannot be replayed now; the message says why and what to do."""


def replayable(session: Session, batch_id: int) -> Batch:
    """The batch to replay, with its archived delivery at hand; refused when replaying it would harm."""
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise BatchNotFound(f"batch {batch_id} not found")
    if batch.archive_path is None or not Path(batch.archive_path).is_file():
        raise ReplayRefused(f"batch {batch_id} has no archived delivery (removed after the retention period)")
    if batch.status not in REPLAYABLE:
        raise ReplayRefused(f"batch {batch_id} is {batch.status}; only a finished batch is replayed")
    newer = session.scalar(
        select(func.max(Batch.id)).where(
            Batch.district_id == batch.district_id, Batch.id > batch.id, Batch.status == BatchStatus.APPLIED
        )
    )
    if newer is not None and newer != batch_id:
        raise ReplayRefused(
            f"batch {batch_id} is older than applied batch {newer}: replaying it would roll the district back"
        )
    return batch


def replay_batch(engine: Engine, batch_id: int) -> int:
    """Register the replay of BATCH_ID as a new batch (received, to ingest); its id."""
    with transaction(engine) as session:
        district_id = session.scalar(select(Batch.district_id).where(Batch.id == batch_id))
        if district_id is None:
            raise BatchNotFound(f"batch {batch_id} not found")
        # two replays at once would both pass the checks below
        lock_district(session, "ingest", district_id)
        original = replayable(session, batch_id)
        replay = Batch(
            district_id=original.district_id,
            source_name=original.source_name,
            location=original.archive_path,
            checksum=original.checksum,
            status=BatchStatus.RECEIVED,
            provenance={"source_kind": "replay", "replay_of": original.id, "original": original.provenance},
            archive_path=original.archive_path,
            replay_of=original.id,
            **dict.fromkeys(("rows_total", "inserted", "updated", "unchanged"), 0),
            **dict.fromkeys(("deactivated", "quarantined", "ignored"), 0),
        )
        session.add(replay)
        session.flush()
        return replay.id
