"""The bodies of a sync, as plain functions: the tasks and `ale-sync resync --wait` both run these.

Each function opens its own transactions (the ingest owns its own), so it is an edge: what it
records in the outbox is published right after the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from config.settings import get_settings
from models import Batch, BatchStatus, District
from models.db import transaction
from worker.outbox import publish_pending
from worker.single_flight import district_session_lock


@dataclass
class DistrictSync:
    """What one district's sync did, for the resync summary table."""

    district_id: str
    batches: list[Any] = field(default_factory=list)  # IngestResult, in the order applied
    match: Any = None  # PassSummary


def sync_districts(engine: Engine, district_id: str | None = None) -> list[str]:
    """The districts a resync covers: every configured source's, and every one already stored."""
    configured = {s.district for s in get_settings().sources_for(district_id)}
    query = select(District.id)
    if district_id is not None:
        query = query.where(District.id == district_id)
    with transaction(engine) as session:
        stored = set(session.scalars(query))
    return sorted(configured | stored)


def pull_district(engine: Engine, district_id: str) -> list[int]:
    """Register the district's new deliveries; return every batch of it still waiting for ingest."""
    from worker.pull import pull_sources

    # two pulls of one district at once would list and register the same deliveries
    with district_session_lock(engine, "pull", district_id):
        pull_sources(engine, district_id)
    return waiting_batches(engine, district_id)


def waiting_batches(engine: Engine, district_id: str, up_to: int | None = None) -> list[int]:
    """Batches of the district not yet ingested, oldest first (the order to apply).

    A batch left `ingesting` by a worker killed mid-ingest counts: its work was rolled back.
    """
    unfinished = (BatchStatus.RECEIVED, BatchStatus.INGESTING)
    query = select(Batch.id).where(Batch.district_id == district_id, Batch.status.in_(unfinished))
    if up_to is not None:
        query = query.where(Batch.id <= up_to)
    with transaction(engine) as session:
        return list(session.scalars(query.order_by(Batch.id)))


def batch_district(engine: Engine, batch_id: int) -> str | None:
    with transaction(engine) as session:
        return session.scalar(select(Batch.district_id).where(Batch.id == batch_id))


def ingest_in_order(engine: Engine, batch_id: int) -> list[Any]:
    """Ingest BATCH_ID after any older batch of its district still waiting: deliveries apply in order."""
    from worker.ingest import ingest_batch

    district_id = batch_district(engine, batch_id)
    if district_id is None:
        return []
    results = []
    # the ingest's own district lock covers only its apply; this one makes a duplicate message
    # wait for the whole run and then find the batch done, instead of re-marking it ingesting
    with district_session_lock(engine, "ingest_run", district_id):
        for waiting in [*waiting_batches(engine, district_id, up_to=batch_id - 1), batch_id]:
            results.append(ingest_batch(engine, waiting))
            publish_pending(engine, district_id=district_id)
    return results


def newest_applied_batch(engine: Engine, district_id: str) -> int | None:
    """The batch whose data a match pass sees last; links it makes are credited to it."""
    query = (
        select(Batch.id)
        .where(Batch.district_id == district_id, Batch.status == BatchStatus.APPLIED)
        .order_by(Batch.finished_at.desc().nulls_last(), Batch.id.desc())
        .limit(1)
    )
    with transaction(engine) as session:
        return session.scalar(query)


def match_one_district(engine: Engine, district_id: str, batch_id: int | None = None) -> Any:
    from matching.district_pass import match_district

    with transaction(engine) as session:
        summary = match_district(session, district_id, batch_id)
    publish_pending(engine, district_id=district_id)
    return summary


def sync_district(engine: Engine, district_id: str) -> DistrictSync:
    """Pull, ingest every waiting batch in order, then match the district: one resync."""
    done = DistrictSync(district_id)
    waiting = pull_district(engine, district_id)
    if waiting:
        done.batches = ingest_in_order(engine, waiting[-1])
    done.match = match_one_district(engine, district_id)
    return done


def run_resync(
    engine: Engine, district_id: str | None = None, on_district: Callable[[str], None] | None = None
) -> list[DistrictSync]:
    results = []
    for district in sync_districts(engine, district_id):
        results.append(sync_district(engine, district))
        if on_district is not None:
            on_district(district)
    return results
