"""The outbox's publisher: committed events become Celery tasks, sent by name.

The edge (task, request, CLI command) records events inside its transaction
(`models.outbox.record_event`) and calls `publish_pending` once that transaction has
committed. If Redis is down then, the rows simply stay unpublished; the beat's sweep
(`publish_pending` with an age floor) sends them when it is back. Delivery is at-least-once;
the tasks are idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from matching.core.vocabulary import Topic
from models import OutboxEvent
from models.db import transaction
from worker.enqueue import enqueue_match_district

logger = structlog.get_logger(__name__)

# the sweep leaves events younger than this to the edge that is about to publish them
SWEEP_MIN_AGE_SECONDS = 5.0


@dataclass(frozen=True)
class PublishReport:
    published: int
    failed: int
    left: int  # rows not tried because the broker failed first


def _send_match_district(event: OutboxEvent) -> None:
    if event.district_id is not None:
        enqueue_match_district(event.district_id, batch_id=event.payload.get("batch_id"))


def _nothing_to_send(event: OutboxEvent) -> None:
    """Informational topics (a link happened) have no consumer task yet."""


SENDERS: dict[str, Callable[[OutboxEvent], None]] = {
    Topic.BATCH_APPLIED: _send_match_district,
    Topic.RECORD_LINKED: _nothing_to_send,
}


def publish_pending(
    engine: Engine | None = None,
    *,
    district_id: str | None = None,
    older_than_seconds: float = 0.0,
    limit: int = 500,
) -> PublishReport:
    """Send unpublished events to Celery, oldest first; a row is marked only after its send worked.

    Never raises for a broker outage: the first failed send stops the run (the broker is
    down, so the rest would fail too) and the rows wait for the next sweep.
    """
    with transaction(engine) as session:
        events = _claim_unpublished(session, district_id, older_than_seconds, limit)
        published = 0
        for event in events:
            if not _send(event):
                return PublishReport(published=published, failed=1, left=len(events) - published - 1)
            published += 1
    return PublishReport(published=published, failed=0, left=0)


def publish_committed(engine: Engine, district_id: str) -> PublishReport | None:
    """What an edge calls right after its commit: publish the district's events now.

    The change is committed whatever happens here, so nothing is raised: if even the database
    read fails, the rows wait for the sweep.
    """
    try:
        return publish_pending(engine, district_id=district_id)
    except Exception as exc:
        logger.warning("outbox_publish_deferred", district_id=district_id, error=type(exc).__name__)
        return None


def _claim_unpublished(
    session: Session, district_id: str | None, older_than_seconds: float, limit: int
) -> list[OutboxEvent]:
    query = select(OutboxEvent).where(OutboxEvent.published_at.is_(None))
    if district_id is not None:
        query = query.where(OutboxEvent.district_id == district_id)
    if older_than_seconds > 0:
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
        query = query.where(OutboxEvent.created_at < cutoff)
    # SKIP LOCKED: an edge publishing its own events, the sweep and another worker's sweep may
    # run at once; each takes the rows no one else is sending right now instead of waiting
    # on them and then sending them a second time
    query = query.order_by(OutboxEvent.id).limit(limit).with_for_update(skip_locked=True)
    return list(session.scalars(query))


def _send(event: OutboxEvent) -> bool:
    sender = SENDERS.get(event.topic)
    try:
        if sender is None:
            logger.warning("outbox_topic_unknown", event_id=event.id, topic=event.topic)
        else:
            sender(event)
    except Exception as exc:  # a broker outage, whatever the transport calls it
        event.attempts += 1
        event.last_error = type(exc).__name__
        logger.warning(
            "outbox_publish_failed", event_id=event.id, topic=event.topic, error=type(exc).__name__
        )
        return False
    event.published_at = datetime.now(UTC)
    return True
