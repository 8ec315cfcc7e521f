"""The bodies of a sync, as plain functions: the tasks and `ale-sync resync --wait` both run these.

Each function opens its own transactions (the ingest owns its own), so it is an edge: what it
records in the outbox is published right after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from config.settings import get_settings
from matching.apply import PassSummary
from matching.district_pass import match_district
from models import Batch, BatchStatus, District
from models.db import transaction
from worker.ingest import IngestResult, ingest_batch
from worker.outbox import publish_pending
from worker.pull import pull_sources
from worker.single_flight import district_session_lock


@dataclass(frozen=True)
class DistrictSync:
    """What one district's sync did, for the resync summary table."""

    district_id: str
    batches: list[IngestResult]  # in the order applied
    match: PassSummary


def configured_districts(district_id: str | None = None) -> list[str]:
    """Every district a configured source delivers for (or just DISTRICT_ID's, if it has one)."""
    return sorted({s.district for s in get_settings().sources_for(district_id)})


def stored_districts(engine: Engine, district_id: str | None = None) -> list[str]:
    """Every district the database holds (or just DISTRICT_ID, if it does)."""
    query = select(District.id).order_by(District.id)
    if district_id is not None:
        query = query.where(District.id == district_id)
    with transaction(engine) as session:
        return list(session.scalars(query))


def sync_districts(engine: Engine, district_id: str | None = None) -> list[str]:
    """The districts a resync covers: every configured source's, and every one already stored."""
    return sorted({*configured_districts(district_id), *stored_districts(engine, district_id)})


def pull_district(engine: Engine, district_id: str, now: datetime | None = None) -> list[int]:
    """Register the district's new deliveries (as its pause at NOW allows); return every batch of
    it still waiting for ingest."""
    # two pulls of one district at once would list and register the same deliveries
    with district_session_lock(engine, "pull", district_id):
        pull_sources(engine, district_id, now)
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


def ingest_in_order(engine: Engine, batch_id: int) -> list[IngestResult]:
    """Ingest BATCH_ID after any older batch of its district still waiting: deliveries apply in order."""
    district_id = batch_district(engine, batch_id)
    if district_id is None:
        return []
    results = []
    # the ingest's own district lock covers only its apply; this one makes a duplicate message
    # wait for the whole run and then find the batch done, instead of re-marking it ingesting
    with district_session_lock(engine, "ingest_run", district_id):
        for waiting in [*waiting_batches(engine, district_id, up_to=batch_id - 1), batch_id]:
            # each applied batch's event is published by the ingest itself, right after its commit
            results.append(ingest_batch(engine, waiting))
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


def match_one_district(engine: Engine, district_id: str, batch_id: int | None = None) -> PassSummary:
    """One pass over the district's unlinked created records; its links are credited to BATCH_ID."""
    with transaction(engine) as session:
        summary = match_district(session, district_id, batch_id)
    publish_pending(engine, district_id=district_id)
    return summary


def match_after_batches(engine: Engine, district_id: str, batch_id: int | None) -> PassSummary:
    """The pass a batch_applied event asks for; it may stand for several collapsed events, so its
    links are credited to the newest applied batch."""
    if batch_id is not None:
        batch_id = newest_applied_batch(engine, district_id) or batch_id
    return match_one_district(engine, district_id, batch_id)


def pass_counts(summary: PassSummary) -> dict[str, int]:
    """A pass's counts as the task's log line and the resync table show them."""
    return {
        "linked": summary.linked,
        "held": summary.held,
        "waiting": summary.waiting,
        "suggested": summary.suggested,
    }


def sync_district(engine: Engine, district_id: str) -> DistrictSync:
    """Pull, ingest every waiting batch in order, then match the district: one resync."""
    waiting = pull_district(engine, district_id)
    batches = ingest_in_order(engine, waiting[-1]) if waiting else []
    return DistrictSync(district_id, batches, match_one_district(engine, district_id))
