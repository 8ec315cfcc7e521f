"""The single-record pass: a created record saved or given ids is checked at once, so it links
within seconds when its SIS record is already there."""

from __future__ import annotations

import structlog
from sqlalchemy import text
from sqlalchemy.orm import Session

from matching.apply import apply_decisions
from matching.core.decide import Decision, Wait, decide
from matching.district_pass import thresholds
from matching.gather import gather

logger = structlog.get_logger(__name__)


def match_created_record(session: Session, district_id: str, created_record_id: int) -> Decision:
    """Decide and apply for one created record; a record no longer unlinked just waits."""
    # the row lock serialises this with a staff link or another pass on the same record; the
    # district lock is not taken, so a request never waits behind a whole district's pass
    locked = session.execute(
        text(
            "SELECT id FROM students WHERE id = :id AND district_id = :d AND origin = 'created'"
            " AND status = 'active' FOR UPDATE"
        ),
        {"id": created_record_id, "d": district_id},
    ).first()
    if locked is None:
        return Wait()
    gathered = gather(session, district_id, [created_record_id])
    record = gathered.records[created_record_id]
    decision = decide(
        record,
        gathered.candidates.get(created_record_id, ()),
        thresholds(),
        gathered.dismissed.get(created_record_id, frozenset()),
        gathered.frequencies,
    )
    apply_decisions(session, district_id, {created_record_id: decision})
    logger.info(
        "created_record_matched",
        district_id=district_id,
        created_record_id=created_record_id,
        decision=type(decision).__name__.lower(),
    )
    return decision
