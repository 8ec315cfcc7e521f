"""A source's state between pulls: what the next API read is (bulk or delta from which watermark),
whether the source waits for a batch of its own, and the watermark moved when a batch is applied."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Engine, case, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from config.settings import SourceConfig, get_settings
from models import Batch, BatchStatus, District, SourceState
from models.db import transaction
from worker.sources.oneroster_api.read import ReadPlan, parse_time

logger = structlog.get_logger(__name__)

# a source with a batch in one of these waits: its next read would pile up behind it (held: ops decide)
WAITING = (BatchStatus.RECEIVED, BatchStatus.INGESTING, BatchStatus.HELD)


def read_plan(session: Session, source: SourceConfig) -> ReadPlan:
    """A bulk read when ops asked for one or no watermark exists yet; a delta otherwise."""
    state = session.get(SourceState, (source.district, source.name))
    if state is None or state.full_read_requested or state.watermark is None:
        return ReadPlan("bulk", None)
    return ReadPlan("delta", state.watermark)


def waiting_batch(session: Session, source: SourceConfig) -> int | None:
    """The source's batch still received, ingesting or held, if any."""
    return session.scalar(
        select(func.min(Batch.id)).where(
            Batch.district_id == source.district,
            Batch.source_name == source.name,
            Batch.status.in_(WAITING),
            Batch.replay_of.is_(None),
        )
    )


def advance_watermark(session: Session, batch: Batch) -> None:
    """In the transaction that applies BATCH: its read's watermark becomes the source's (never
    backwards), and a bulk read answers a full read asked for."""
    provenance: dict[str, Any] = batch.provenance or {}
    if provenance.get("source_kind") != "oneroster-api":
        return
    watermark = parse_time(provenance["watermark"]) if provenance.get("watermark") else None
    bulk = provenance.get("read") == "bulk"
    table = SourceState.__table__
    statement = insert(SourceState).values(
        district_id=batch.district_id,
        source_name=batch.source_name,
        watermark=watermark,
        watermark_batch_id=batch.id if watermark else None,
        full_read_requested=False,
    )
    new = statement.excluded
    moves = new.watermark.is_not(None) & (table.c.watermark.is_(None) | (new.watermark > table.c.watermark))
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["district_id", "source_name"],
            set_={
                "watermark": case((moves, new.watermark), else_=table.c.watermark),
                "watermark_batch_id": case((moves, new.watermark_batch_id), else_=table.c.watermark_batch_id),
                "full_read_requested": False if bulk else table.c.full_read_requested,
            },
        )
    )
    logger.info("source.watermark_advanced", district_id=batch.district_id, batch_id=batch.id, bulk=bulk)


def ensure_district(session: Session, district_id: str) -> None:
    """The tenant row, created on first sight; orgs.csv gives it its name at ingest."""
    zone = get_settings().district_timezone
    row = insert(District).values(id=district_id, name=district_id, timezone=zone)
    session.execute(row.on_conflict_do_nothing())


def request_full_reads(engine: Engine, districts: list[str]) -> list[str]:
    """`ale-sync resync --full`: the next read of each API source of DISTRICTS is a bulk read."""
    asked = []
    with transaction(engine) as session:
        for source in get_settings().sis_sources:
            if source.kind != "oneroster-api" or source.district not in districts:
                continue
            ensure_district(session, source.district)
            session.execute(
                insert(SourceState)
                .values(district_id=source.district, source_name=source.name, full_read_requested=True)
                .on_conflict_do_update(
                    index_elements=["district_id", "source_name"], set_={"full_read_requested": True}
                )
            )
            asked.append(f"{source.district}/{source.name}")
    return asked


def record_read(engine: Engine, source: SourceConfig, error: str | None, at: datetime) -> None:
    """The last read's time and, when it failed, why (for `ale-sync sources`)."""
    with transaction(engine) as session:
        ensure_district(session, source.district)
        session.execute(
            insert(SourceState)
            .values(
                district_id=source.district,
                source_name=source.name,
                full_read_requested=False,
                last_read_at=at,
                last_error=error,
            )
            .on_conflict_do_update(
                index_elements=["district_id", "source_name"], set_={"last_read_at": at, "last_error": error}
            )
        )
