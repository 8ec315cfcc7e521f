"""Create Student for ALE, and ids entered later on an unlinked record: staff-sized ORM paths.

A record saved with an SSID or Other ID is matched here, in the transaction that saves it: the
registrar sees the outcome on the confirmation, and no moment passes in which the record is
saved but unmatched. One whose SIS record arrives later is linked by the district pass that
runs after every batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import delete
from sqlalchemy.orm import Session

from admin.caller import Caller
from admin.errors import Refused
from admin.identifiers import clean_other_id, clean_ssid
from admin.selector import SelectorRow
from admin.student_details import clean_birth_date, clean_grade, clean_school, district_schools
from admin.students import similar_students
from matching.core.decide import Hold, Link
from matching.record_pass import match_created_record
from matching.staff_links import audit_staff_action, find_created_record, not_these_students
from models import AuditAction, HoldRow, Origin, Student, StudentStatus, SuggestionRow

NAME_MAX = 100


@dataclass(frozen=True)
class RecordDetails:
    """What tells namesakes apart, each optional: birth date, grade, school (a school's SIS id)."""

    birth_date: str | date | None = None
    grade: str | None = None
    school_id: str | None = None
    keep: frozenset[str] = frozenset()  # fields left as they are on the record (not sent)


@dataclass(frozen=True)
class NewCreatedRecord:
    first_name: str
    last_name: str
    ssid: str | None = None
    other_id: str | None = None
    details: RecordDetails = RecordDetails()
    # SIS students staff were warned of and said this is not (Create anyway: a different student)
    different_from: tuple[int, ...] = ()


@dataclass(frozen=True)
class CreateOutcome:
    created_record_id: int
    match: str  # linked | held | waiting | not_checked (saved with names alone)
    linked_sis_record_id: int | None = None
    hold_reason: str | None = None
    suggested_sis_record_id: int | None = None  # an SSID typo's or a possible SIS match's record
    # on a create through the API: the district's active students of the same or a very like name
    # before this one was saved (the create form shows them before saving instead)
    similar_students: tuple[SelectorRow, ...] = ()


def clean_name(value: str, field: str) -> str:
    text = " ".join(value.split())
    words = field.replace("_", " ")
    if not text:
        raise Refused(422, f"{field}_required", f"Enter the student's {words}.")
    if len(text) > NAME_MAX:
        raise Refused(
            422, f"{field}_too_long", f"The {words} is too long: use at most {NAME_MAX} characters."
        )
    if "\x00" in text:
        raise Refused(422, "invalid_text", f"The {words} holds a character that cannot be saved.")
    return text


def form_errors(new: NewCreatedRecord, schools: dict[str, str]) -> dict[str, str]:
    """Every field the create form would refuse, with the sentence to show next to it, in form order."""
    checks: dict[str, Callable[[], object]] = {
        "first_name": lambda: clean_name(new.first_name, "first_name"),
        "last_name": lambda: clean_name(new.last_name, "last_name"),
        "ssid": lambda: clean_ssid(new.ssid),
        "other_id": lambda: clean_other_id(new.other_id),
        **detail_checks(new.details, schools),
    }
    return failing_checks(checks)


def detail_checks(details: RecordDetails, schools: dict[str, str]) -> dict[str, Callable[[], object]]:
    return {
        "birth_date": lambda: clean_birth_date(details.birth_date),
        "grade": lambda: clean_grade(details.grade),
        "school_id": lambda: clean_school(details.school_id, schools),
    }


def failing_checks(checks: dict[str, Callable[[], object]]) -> dict[str, str]:
    """Each check that refuses, as field -> the sentence to show beside it."""
    errors = {}
    for field, check in checks.items():
        try:
            check()
        except Refused as refusal:
            errors[field] = refusal.message
    return errors


def create_created_record(
    session: Session, caller: Caller, new: NewCreatedRecord, *, tell_similar: bool = False
) -> CreateOutcome:
    """Save the record; one saved with an SSID, an Other ID, a birth date, a grade or a school is
    matched at once (ids link or hold; the rest may bring a possible SIS match). With
    `tell_similar`, the outcome names the students of the same or a very like name that the
    district already had."""
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
    _set_details(session, caller, record, new.details)
    similar = similar_students(session, caller, record.first_name, record.last_name) if tell_similar else []
    session.add(record)
    if new.different_from:
        session.flush()
        not_these_students(session, caller, record.id, list(new.different_from))
    outcome = audit_and_match(session, caller, record, AuditAction.CREATE)
    return replace(outcome, similar_students=tuple(similar)) if similar else outcome


def _set_details(session: Session, caller: Caller, record: Student, details: RecordDetails) -> None:
    if "birth_date" not in details.keep:
        record.birth_date = clean_birth_date(details.birth_date)
    if "grade" not in details.keep:
        record.grade = clean_grade(details.grade)
    if "school_id" not in details.keep:
        record.school_id = clean_school(details.school_id, district_schools(session, caller))


def edit_created_record_ids(
    session: Session,
    caller: Caller,
    created_record_id: int,
    ssid: str | None,
    other_id: str | None,
    *,
    details: RecordDetails | None = None,
) -> CreateOutcome:
    """Staff corrected or added ids (and, when given, birth date, grade and school) on an unlinked
    record: saved, audited, and matched at once."""
    record = find_created_record(session, caller.district_id, created_record_id, lock=True)
    record.ssid, record.other_id = clean_ssid(ssid), clean_other_id(other_id)
    if details is not None:
        _set_details(session, caller, record, details)
    return audit_and_match(session, caller, record, AuditAction.EDIT_IDS)


def audit_and_match(session: Session, caller: Caller, record: Student, action: AuditAction) -> CreateOutcome:
    """Audit the save; a record carrying an id or a detail beyond its names is matched now."""
    session.flush()
    audit_staff_action(
        session,
        caller,
        action,
        record.id,
        with_ssid=bool(record.ssid),
        with_other_id=bool(record.other_id),
        with_birth_date=record.birth_date is not None,
        with_grade=bool(record.grade),
        with_school=bool(record.school_id),
    )
    if not (record.ssid or record.other_id or record.birth_date or record.grade or record.school_id):
        # names alone never make a possible SIS match (docs/matching.md): nothing to check yet; a
        # hold or suggestion from ids since removed no longer applies
        for table in (HoldRow, SuggestionRow):
            session.execute(delete(table).where(table.created_record_id == record.id))
        return CreateOutcome(record.id, "not_checked")
    return match_now(session, caller.district_id, record.id)


def match_now(session: Session, district_id: str, created_record_id: int) -> CreateOutcome:
    decision = match_created_record(session, district_id, created_record_id)
    if isinstance(decision, Link):
        return CreateOutcome(created_record_id, "linked", linked_sis_record_id=decision.sis_record_id)
    if isinstance(decision, Hold):
        return CreateOutcome(created_record_id, "held", hold_reason=str(decision.reason))
    suggestion = decision.suggestion
    return CreateOutcome(
        created_record_id, "waiting", suggested_sis_record_id=suggestion.sis_record_id if suggestion else None
    )
