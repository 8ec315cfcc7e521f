"""Transactional outbox: follow-up work committed with the change that causes it.

Whoever changes something records its event here, in the same transaction; the worker's
publisher (worker/outbox.py) sends committed events to Celery by task name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Identity, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from matching.core.vocabulary import Topic
from models.base import Base, created_at_column


class OutboxEvent(Base):
    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_events_unpublished", "id", postgresql_where=text("published_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    district_id: Mapped[str | None] = mapped_column(ForeignKey("districts.id"))
    topic: Mapped[str] = mapped_column(String(64), nullable=False)  # a matching.core.vocabulary.Topic
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)  # ids only
    created_at: Mapped[datetime] = created_at_column()
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)


# one statement whatever the number of events: the payloads travel as one JSON array, not as a row
# of bind parameters each (a district pass's 65,000 links took 30 s to send the ORM's way) nor as a
# text[] of JSON strings (the driver quotes every element's quotes one by one: 0.7 s for 65,000,
# against 0.1 s to send and parse the one document)
_INSERT_EVENTS = """
INSERT INTO outbox_events (topic, district_id, payload, created_at)
SELECT :topic, :d, e.payload, clock_timestamp()
FROM jsonb_array_elements(CAST(:payloads AS jsonb)) WITH ORDINALITY AS e(payload, n)
ORDER BY e.n
RETURNING id
"""


def record_events(
    session: Session, topic: Topic, district_id: str | None, payloads: Sequence[Mapping[str, Any]]
) -> list[int]:
    """Add events to the caller's transaction; they are published only if that transaction commits.

    The one way events are written: a request's single event and a district pass's thousand
    links alike go in as one INSERT. The ids come back sorted (the identity hands them out in
    the payloads' order).
    """
    if not payloads:
        return []
    # the moment the row is written, not the transaction's start (`now()`): an ingest records its
    # event last, after minutes of work, and the event's age (sweep, metrics, link time) counts from here
    params = {"topic": str(topic), "d": district_id, "payloads": json.dumps([dict(p) for p in payloads])}
    session.flush()  # a plain statement does not autoflush: the district may be pending in this session
    return sorted(session.scalars(text(_INSERT_EVENTS), params))


def record_event(session: Session, topic: Topic, district_id: str | None, **payload: Any) -> int:
    """Add one event to the caller's transaction (see `record_events`); its id."""
    return record_events(session, topic, district_id, [payload])[0]
