"""What the ops commands show: per-district status, unlinked and held records, staff accounts.

Plain reads scoped by district, returned as dicts ready for a table or for `--json`. Names
appear here because ops need them on screen; nothing in this module logs them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from models import (
    Batch,
    BatchStatus,
    District,
    HoldRow,
    Origin,
    OutboxEvent,
    Staff,
    Student,
    StudentStatus,
    SuggestionRow,
)
from models.pause import pause_state
from worker.pauses import pause_summary

COUNTS = ("inserted", "updated", "unchanged", "deactivated", "quarantined", "ignored")


def _unlinked() -> Any:
    return and_(Student.origin == Origin.CREATED, Student.status == StudentStatus.ACTIVE)


def _age_seconds(moment: datetime | None, now: datetime) -> int | None:
    return None if moment is None else int((now - moment).total_seconds())


def district_status(session: Session, district_id: str | None = None) -> list[dict[str, Any]]:
    """One row per district: last batch and its counts, unlinked, held, last error, oldest unlinked age."""
    query = select(District.id, District.name).order_by(District.id)
    if district_id is not None:
        query = query.where(District.id == district_id)
    now = datetime.now(UTC)
    return [_one_district(session, did, name, now) for did, name in session.execute(query)]


def _one_district(session: Session, district_id: str, name: str, now: datetime) -> dict[str, Any]:
    last = session.scalars(
        select(Batch).where(Batch.district_id == district_id).order_by(Batch.id.desc()).limit(1)
    ).first()
    unlinked, oldest = session.execute(
        select(func.count(), func.min(Student.created_at)).where(
            Student.district_id == district_id, _unlinked()
        )
    ).one()
    held = session.scalar(
        select(func.count())
        .select_from(HoldRow)
        .join(
            Student, and_(Student.id == HoldRow.created_record_id, Student.district_id == HoldRow.district_id)
        )
        .where(HoldRow.district_id == district_id, _unlinked())
    )
    return {
        "district_id": district_id,
        "district_name": name,
        "last_batch": _batch_summary(last) if last else None,
        "unlinked": int(unlinked),
        "held": int(held or 0),
        "oldest_unlinked_age_seconds": _age_seconds(oldest, now),
        "last_error": _last_error(session, district_id),
        "pause": pause_summary(pause_state(session, district_id, now)),
    }


def _batch_summary(batch: Batch) -> dict[str, Any]:
    return {
        "batch_id": batch.id,
        "status": str(batch.status),
        "source": batch.source_name,
        "received_at": batch.received_at.isoformat(),
        "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
        "counts": {k: getattr(batch, k) for k in COUNTS},
        "reason": batch.hold_reason or batch.reject_reason or batch.error,
    }


def _last_error(session: Session, district_id: str) -> str | None:
    failed = session.execute(
        select(Batch.id, Batch.error)
        .where(Batch.district_id == district_id, Batch.status == BatchStatus.FAILED)
        .order_by(Batch.id.desc())
        .limit(1)
    ).first()
    if failed is not None:
        return f"batch {failed.id} failed: {failed.error or 'no detail'}"
    unsent, error = session.execute(
        select(func.count(), func.max(OutboxEvent.last_error)).where(
            OutboxEvent.district_id == district_id,
            OutboxEvent.published_at.is_(None),
            OutboxEvent.last_error.is_not(None),
        )
    ).one()
    return f"{unsent} event(s) not yet sent to the worker: {error}" if unsent else None


def listed(session: Session, query: Select[Any], limit: int, offset: int) -> tuple[int, list[Any]]:
    """How many rows the query has in all, and the page of them asked for."""
    total = session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    return total, list(session.execute(query.limit(limit).offset(offset)))


def unlinked_records(
    session: Session, district_id: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """The unlinked table across districts (or one): how many, and a page oldest first, with any
    hold or suggestion."""
    suggested = select(func.count()).where(SuggestionRow.created_record_id == Student.id).scalar_subquery()
    query: Select[Any] = (
        select(Student, HoldRow.reason, suggested)
        .outerjoin(
            HoldRow, and_(HoldRow.created_record_id == Student.id, HoldRow.district_id == Student.district_id)
        )
        .where(_unlinked())
        .order_by(Student.district_id, Student.created_at, Student.id)
    )
    if district_id is not None:
        query = query.where(Student.district_id == district_id)
    now = datetime.now(UTC)
    total, found = listed(session, query, limit, offset)
    return total, [
        {
            "district_id": record.district_id,
            "created_record_id": record.id,
            "first_name": record.first_name,
            "last_name": record.last_name,
            "has_ssid": record.ssid is not None,
            "has_other_id": record.other_id is not None,
            **typed_details(record),
            "hold_reason": str(reason) if reason else None,
            "suggestions": int(suggestions),
            "age_seconds": _age_seconds(record.created_at, now),
        }
        for record, reason, suggestions in found
    ]


def typed_details(record: Student) -> dict[str, Any]:
    """A created record's birth date, grade and school (its SIS id), as typed; None where not."""
    born = record.birth_date.isoformat() if record.birth_date else None
    return {"birth_date": born, "grade": record.grade, "school_id": record.school_id}


def held_records(
    session: Session, district_id: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """Created records held for a person (how many, and a page), with the reason and the candidate."""
    candidate = aliased(Student)
    query: Select[Any] = (
        select(HoldRow, Student, candidate)
        .join(
            Student, and_(Student.id == HoldRow.created_record_id, Student.district_id == HoldRow.district_id)
        )
        .outerjoin(
            candidate,
            and_(
                candidate.id == HoldRow.candidate_sis_record_id, candidate.district_id == HoldRow.district_id
            ),
        )
        .where(_unlinked())
        .order_by(HoldRow.district_id, HoldRow.first_held_at, HoldRow.created_record_id)
    )
    if district_id is not None:
        query = query.where(HoldRow.district_id == district_id)
    total, found = listed(session, query, limit, offset)
    return total, [
        {
            "district_id": hold.district_id,
            "created_record_id": hold.created_record_id,
            "name": f"{record.first_name} {record.last_name}",
            **typed_details(record),
            "reason": str(hold.reason),
            "candidate_sis_record_id": hold.candidate_sis_record_id,
            "candidate_name": f"{other.first_name} {other.last_name}" if other else None,
            "held_since": hold.first_held_at.isoformat(),
        }
        for hold, record, other in found
    ]


def staff_accounts(session: Session, district_id: str | None = None) -> list[dict[str, Any]]:
    query = select(Staff).order_by(Staff.district_id, Staff.id)
    if district_id is not None:
        query = query.where(Staff.district_id == district_id)
    return [
        {
            "staff_id": staff.id,
            "district_id": staff.district_id,
            "name": staff.name,
            "role": str(staff.role),
            "created_at": staff.created_at.isoformat(),
            "revoked_at": staff.revoked_at.isoformat() if staff.revoked_at else None,
        }
        for staff in session.scalars(query)
    ]
