"""Create Student for ALE, and delete a created record nobody used: staff-sized ORM paths."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import delete, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from admin.auth import Caller
from admin.errors import Refused, not_found
from admin.identifiers import clean_other_id, clean_ssid
from matching.core.decide import Hold as HoldDecision
from matching.core.decide import Link
from matching.record_pass import match_created_record
from models import (
    AuditAction,
    AuditEntry,
    DismissedSuggestion,
    Hold,
    Origin,
    Student,
    StudentStatus,
    Suggestion,
)
from worker.outbox import CREATED_RECORD_SAVED, record_event

logger = structlog.get_logger(__name__)

NAME_MAX = 100


@dataclass(frozen=True)
class NewCreatedRecord:
    first_name: str
    last_name: str
    ssid: str | None = None
    other_id: str | None = None


@dataclass(frozen=True)
class CreateOutcome:
    created_record_id: int
    match: str  # linked | held | waiting | not_checked (saved without ids)
    linked_sis_record_id: int | None = None
    hold_reason: str | None = None


def clean_name(value: str, field: str) -> str:
    text = " ".join(value.split())
    if not text:
        raise Refused(422, f"{field}_required", f"the {field.replace('_', ' ')} is required")
    if len(text) > NAME_MAX:
        raise Refused(422, f"{field}_too_long", f"the {field.replace('_', ' ')} is too long")
    return text


def audit(session: Session, caller: Caller, action: AuditAction, student_id: int, **detail: object) -> None:
    session.add(
        AuditEntry(
            district_id=caller.district_id,
            actor_kind="staff",
            actor_staff_id=caller.staff_id,
            action=action,
            student_id=student_id,
            detail=detail or None,
        )
    )


def create_created_record(session: Session, caller: Caller, new: NewCreatedRecord) -> CreateOutcome:
    """Save the record; one saved with an SSID or Other ID is matched at once and re-checked by the worker."""
    record = Student(
        district_id=caller.district_id,
        origin=Origin.CREATED,
        status=StudentStatus.ACTIVE,
        first_name=clean_name(new.first_name, "first_name"),
        last_name=clean_name(new.last_name, "last_name"),
        ssid=clean_ssid(new.ssid),
        other_id=clean_other_id(new.other_id),
        created_by_staff_id=caller.staff_id,
    )
    session.add(record)
    return audit_and_match(session, caller, record, AuditAction.CREATE)


def edit_created_record_ids(
    session: Session, caller: Caller, created_record_id: int, ssid: str | None, other_id: str | None
) -> CreateOutcome:
    """Staff corrected or added ids on an unlinked record: saved, audited, and matched at once."""
    record = lock_unlinked(session, caller.district_id, created_record_id)
    record.ssid, record.other_id = clean_ssid(ssid), clean_other_id(other_id)
    return audit_and_match(session, caller, record, AuditAction.EDIT_IDS)


def audit_and_match(session: Session, caller: Caller, record: Student, action: AuditAction) -> CreateOutcome:
    """Audit the save; a record carrying an id is matched now and re-checked by the worker."""
    session.flush()
    audit(
        session, caller, action, record.id, with_ssid=bool(record.ssid), with_other_id=bool(record.other_id)
    )
    if not (record.ssid or record.other_id):
        # nothing to match on: a hold or typo suggestion from ids since removed no longer applies
        for table in (Hold, Suggestion):
            session.execute(delete(table).where(table.created_record_id == record.id))
        return CreateOutcome(record.id, "not_checked")
    record_event(session, CREATED_RECORD_SAVED, caller.district_id, created_record_id=record.id)
    return match_now(session, caller.district_id, record.id)


def match_now(session: Session, district_id: str, created_record_id: int) -> CreateOutcome:
    decision = match_created_record(session, district_id, created_record_id)
    if isinstance(decision, Link):
        return CreateOutcome(created_record_id, "linked", linked_sis_record_id=decision.sis_record_id)
    if isinstance(decision, HoldDecision):
        return CreateOutcome(created_record_id, "held", hold_reason=str(decision.reason))
    return CreateOutcome(created_record_id, "waiting")


def lock_unlinked(session: Session, district_id: str, created_record_id: int) -> Student:
    """The district's still-unlinked created record, row-locked for this transaction, or 404."""
    record = session.execute(
        select(Student)
        .where(
            Student.id == created_record_id,
            Student.district_id == district_id,
            Student.origin == Origin.CREATED,
            Student.status == StudentStatus.ACTIVE,
        )
        .with_for_update()
    ).scalar_one_or_none()
    if record is None:
        raise not_found("unlinked record")
    return record


def delete_created_record(session: Session, caller: Caller, created_record_id: int) -> None:
    """Delete a created record that never carried a learning plan (409 otherwise); audited."""
    record = lock_unlinked(session, caller.district_id, created_record_id)
    if record.had_learning_plan:
        raise plan_refusal()
    for table in (Hold, Suggestion, DismissedSuggestion):
        session.execute(delete(table).where(table.created_record_id == record.id))
    try:
        with session.begin_nested():
            session.execute(delete(Student).where(Student.id == record.id))
    except DBAPIError as error:
        # the database's own guard: a plan was attached in a race with this delete
        if getattr(error.orig, "sqlstate", None) == "P0002":
            raise plan_refusal() from None
        raise
    session.expunge(record)
    audit(session, caller, AuditAction.DELETE, created_record_id)
    logger.info("created_record_deleted", created_record_id=created_record_id, staff_id=caller.staff_id)


def plan_refusal() -> Refused:
    return Refused(
        409, "has_learning_plan", "a learning plan was created on this record; it cannot be deleted"
    )
