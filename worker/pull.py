"""Pull: list each configured source's inbox and register every delivery not yet in the batch ledger.

A delivery is identified by its content checksum per district, so the same bytes delivered
again (renamed, re-zipped from the same files, or re-listed) are a reported no-op.
"""

from __future__ import annotations

from pathlib import Path

import structlog
from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from config.settings import SourceConfig, get_settings
from models import Batch, BatchStatus, District
from models.db import transaction
from worker.sources.delivery import is_delivery, open_delivery

logger = structlog.get_logger(__name__)


def ensure_district(session: Session, district_id: str) -> None:
    """The tenant row, created on first sight; orgs.csv gives it its name at ingest."""
    session.execute(insert(District).values(id=district_id, name=district_id).on_conflict_do_nothing())


def register_delivery(session: Session, source: SourceConfig, path: Path) -> tuple[int, bool]:
    """(batch id, newly registered): the ledger row for this delivery's content, added if new."""
    checksum = open_delivery(path).checksum()
    ensure_district(session, source.district)
    inserted = session.execute(
        insert(Batch)
        .values(
            district_id=source.district,
            source_name=source.name,
            location=str(path.resolve()),
            checksum=checksum,
            status=BatchStatus.RECEIVED,
            rows_total=0,
            inserted=0,
            updated=0,
            unchanged=0,
            deactivated=0,
            quarantined=0,
            ignored=0,
        )
        .on_conflict_do_nothing(index_elements=["district_id", "checksum"])
        .returning(Batch.id)
    ).scalar_one_or_none()
    if inserted is not None:
        logger.info("pull.delivery_registered", batch_id=inserted, district_id=source.district)
        return inserted, True
    existing = session.execute(
        select(Batch.id).where(Batch.district_id == source.district, Batch.checksum == checksum)
    ).scalar_one()
    logger.info("pull.delivery_already_registered", batch_id=existing, district_id=source.district)
    return existing, False


def pull_sources(engine: Engine, district: str | None = None) -> list[int]:
    """Register new deliveries of every configured source (or one district's); the new batch ids, in order."""
    new_ids: list[int] = []
    for source in get_settings().sources_for(district):
        for path in _deliveries(source):
            with transaction(engine) as session:
                batch_id, new = register_delivery(session, source, path)
            if new:
                new_ids.append(batch_id)
    return new_ids


def _deliveries(source: SourceConfig) -> list[Path]:
    """The inbox's deliveries in name order (exports are named by time, so deltas apply in order)."""
    if not source.inbox.is_dir():
        logger.warning("pull.inbox_missing", district_id=source.district, source=source.name)
        return []
    return [
        p
        for p in sorted(source.inbox.iterdir())
        if not p.name.startswith(".") and is_delivery(p, source.format)
    ]
