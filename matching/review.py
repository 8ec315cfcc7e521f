"""Staff review of suggestions: "not this student" is remembered and never suggested again."""

from __future__ import annotations

import structlog
from sqlalchemy import text
from sqlalchemy.orm import Session

from matching.link import LinkRefused
from models import AuditAction, AuditEntry

logger = structlog.get_logger(__name__)


def dismiss_suggestion(
    session: Session, *, district_id: str, created_record_id: int, sis_record_id: int, staff_id: int
) -> None:
    """Remember the dismissed pair, drop its suggestion, and audit who dismissed it."""
    both = session.execute(
        text(
            "SELECT count(*) FROM students WHERE district_id = :d AND ((id = :c AND origin = 'created')"
            " OR (id = :s AND origin = 'sis'))"
        ),
        {"d": district_id, "c": created_record_id, "s": sis_record_id},
    ).scalar_one()
    if both != 2:
        raise LinkRefused("not_found", created_record_id)
    params = {"d": district_id, "c": created_record_id, "s": sis_record_id, "staff": staff_id}
    session.execute(
        text(
            "INSERT INTO dismissed_suggestions (created_record_id, sis_record_id, district_id, staff_id)"
            " VALUES (:c, :s, :d, :staff) ON CONFLICT DO NOTHING"
        ),
        params,
    )
    session.execute(
        text(
            "DELETE FROM suggestions WHERE district_id = :d AND created_record_id = :c AND sis_record_id = :s"
        ),
        params,
    )
    session.add(
        AuditEntry(
            district_id=district_id,
            actor_kind="staff",
            actor_staff_id=staff_id,
            action=AuditAction.DISMISS_SUGGESTION,
            student_id=created_record_id,
            detail={"sis_record_id": sis_record_id},
        )
    )
    session.flush()
    logger.info("suggestion_dismissed", district_id=district_id, created_record_id=created_record_id)
