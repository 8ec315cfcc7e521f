"""An outbox event's time is when it was written, not when its transaction began: an ingest
records its event last, and the event's age (sweep, metrics, link time) counts from there."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from matching.core.vocabulary import Topic
from models import District, OutboxEvent
from models.outbox import record_events


def test_events_written_late_in_a_long_transaction_carry_the_time_they_were_written(
    db_session: Session,
) -> None:
    db_session.add(District(id="35001", name="Event time district"))
    started = db_session.execute(select(text("now()"))).scalar_one()
    db_session.execute(text("SELECT pg_sleep(0.5)"))

    ids = record_events(db_session, Topic.BATCH_APPLIED, "35001", [{"batch_id": 1}, {"batch_id": 2}])

    times = db_session.scalars(select(OutboxEvent.created_at).where(OutboxEvent.id.in_(ids))).all()
    assert len(times) == 2
    assert all((t - started).total_seconds() >= 0.5 for t in times)
