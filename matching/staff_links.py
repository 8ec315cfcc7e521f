"""The staff-linking service: every way staff link, dismiss or delete a created record.

Each function finds the records in the staff member's district, refuses what must not happen
(a `Refusal` with a stable code), and merges through the one merge function. The caller (a
request) owns the transaction; nothing here commits.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import InstrumentedAttribute, Session

from matching.core.agreement import Corroboration
from matching.core.vocabulary import LinkMethod
from matching.link import LinkOutcome, ids_contradict, link_created_record
from matching.link_evidence import against_evidence_detail, pair_evidence
from matching.refusals import Refusal, RefusalCode
from models import (
    AuditAction,
    AuditEntry,
    DismissedSuggestion,
    HoldRow,
    LinkAudit,
    Origin,
    Student,
    StudentStatus,
    SuggestionRow,
)

logger = structlog.get_logger(__name__)


class StaffMember(Protocol):
    """Who acts: one staff member of one district (the admin endpoint's caller is one)."""

    @property
    def staff_id(self) -> int: ...

    @property
    def district_id(self) -> str: ...


class EnteredId(enum.StrEnum):
    """Which id staff typed in the unlinked table."""

    SSID = "ssid"
    OTHER_ID = "other_id"


_ENTERED: dict[EnteredId, tuple[InstrumentedAttribute[str | None], LinkMethod]] = {
    EnteredId.SSID: (Student.ssid, LinkMethod.MANUAL_SSID),
    EnteredId.OTHER_ID: (Student.other_id, LinkMethod.MANUAL_OTHER_ID),
}


def find_created_record(
    session: Session, district_id: str, created_record_id: int, *, unlinked: bool = True, lock: bool = False
) -> Student:
    """The district's created record (while unlinked, unless told otherwise); `lock` row-locks it."""
    query = select(Student).where(
        Student.id == created_record_id, Student.district_id == district_id, Student.origin == Origin.CREATED
    )
    if unlinked:
        query = query.where(Student.status == StudentStatus.ACTIVE)
    record = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if record is None:
        raise Refusal(RefusalCode.CREATED_RECORD_NOT_FOUND, created_record_id)
    return record


def find_sis_by_entered_id(
    session: Session, district_id: str, kind: EnteredId, value: str, *, lock: bool = False
) -> int:
    """The one active SIS record of the district that an entered SSID or Other ID points at."""
    column, _ = _ENTERED[kind]
    found = _sis_records(
        session, district_id, column == value.strip(), Student.status == StudentStatus.ACTIVE, lock=lock
    )
    if len(found) > 1:
        raise Refusal(RefusalCode.AMBIGUOUS_OTHER_ID)
    if found:
        return found[0]
    if _sis_records(session, district_id, column == value.strip()):
        raise Refusal(RefusalCode.SIS_RECORD_INACTIVE)  # only a record the SIS no longer sends has it
    raise Refusal(RefusalCode.SIS_RECORD_NOT_FOUND)


def _sis_records(
    session: Session, district_id: str, *conditions: ColumnElement[bool], lock: bool = False
) -> list[int]:
    # NO KEY UPDATE, the merge's own lock on the SIS record: from here to the commit no other
    # link into it can pass the taken-check, and no ingest can deactivate it
    query = (
        select(Student.id)
        .where(Student.district_id == district_id, Student.origin == Origin.SIS, *conditions)
        .order_by(Student.id)
        .limit(2)
    )
    return list(session.scalars(query.with_for_update(key_share=True) if lock else query))


@dataclass(frozen=True)
class LinkPreview:
    """What staff see before the permanent merge: the SIS record, and what the evidence says of the pair."""

    sis_record_id: int
    method: LinkMethod
    evidence: Corroboration
    already_linked: bool = False  # the same pair was linked before: linking again changes nothing


def preview_link(
    session: Session,
    staff: StaffMember,
    created_record_id: int,
    sis_record_id: int,
    method: LinkMethod,
    *,
    lock: bool = False,
    ssid: str | None = None,
    other_id: str | None = None,
) -> LinkPreview:
    """Every refusal that can be known before the merge (record already merged, SIS record gone,
    inactive or already linked, ids that contradict), then the evidence; `ssid` / `other_id`: an id typed."""
    created = find_created_record(session, staff.district_id, created_record_id, unlinked=False, lock=lock)
    if not _sis_records(session, staff.district_id, Student.id == sis_record_id, lock=lock):
        raise Refusal(RefusalCode.SIS_RECORD_NOT_FOUND, created_record_id)
    sis = session.get_one(Student, sis_record_id)  # in the district: checked by the lock above
    if created.merged_into_id == sis.id:
        return LinkPreview(
            sis.id,
            method,
            pair_evidence(session, created, sis, ssid=ssid, other_id=other_id),
            already_linked=True,
        )
    if created.status != StudentStatus.ACTIVE:
        raise Refusal(RefusalCode.ALREADY_LINKED_ELSEWHERE, created_record_id)
    if sis.status != StudentStatus.ACTIVE:
        raise Refusal(RefusalCode.SIS_RECORD_INACTIVE, created_record_id)
    _refuse_taken(session, staff.district_id, created_record_id, sis.id)
    if ids_contradict(method, created, sis):
        raise Refusal(RefusalCode.IDS_CONTRADICT, created_record_id)
    return LinkPreview(sis.id, method, pair_evidence(session, created, sis, ssid=ssid, other_id=other_id))


def _refuse_taken(session: Session, district_id: str, created_record_id: int, sis_record_id: int) -> None:
    # a staff link never gives an SIS record a second created record; the district pass may,
    # when one child was created twice and both carry the child's id
    taken = session.execute(
        select(LinkAudit.id)
        .where(
            LinkAudit.district_id == district_id,
            LinkAudit.sis_record_id == sis_record_id,
            LinkAudit.created_record_id != created_record_id,
        )
        .limit(1)
    ).first()
    if taken is not None:
        raise Refusal(RefusalCode.SIS_RECORD_TAKEN, created_record_id)


def preview_entered_id(
    session: Session,
    staff: StaffMember,
    created_record_id: int,
    kind: EnteredId,
    value: str,
    *,
    lock: bool = False,
) -> LinkPreview:
    """The SIS record a typed SSID or Other ID points at, checked and weighed as if the record carried it."""
    find_created_record(session, staff.district_id, created_record_id, unlinked=False, lock=lock)
    sis_record_id = find_sis_by_entered_id(session, staff.district_id, kind, value, lock=lock)
    typed = value.strip()
    ssid, other_id = (typed, None) if kind is EnteredId.SSID else (None, typed)
    method = _ENTERED[kind][1]
    return preview_link(
        session, staff, created_record_id, sis_record_id, method, lock=lock, ssid=ssid, other_id=other_id
    )


def link_chosen(
    session: Session,
    staff: StaffMember,
    created_record_id: int,
    sis_record_id: int,
    *,
    confirm_mismatch: bool = False,
) -> LinkOutcome:
    """Staff chose an SIS record from the name search: the permanent merge."""
    preview = preview_link(
        session, staff, created_record_id, sis_record_id, LinkMethod.NAME_SEARCH, lock=True
    )
    return _link(session, staff, created_record_id, preview, confirm_mismatch)


def link_by_entered_id(
    session: Session,
    staff: StaffMember,
    created_record_id: int,
    kind: EnteredId,
    value: str,
    *,
    confirm_mismatch: bool = False,
) -> LinkOutcome:
    """Staff typed the SSID or the Other ID: the SIS record it points at, then the merge."""
    preview = preview_entered_id(session, staff, created_record_id, kind, value, lock=True)
    return _link(session, staff, created_record_id, preview, confirm_mismatch)


def _link(
    session: Session, staff: StaffMember, created_record_id: int, preview: LinkPreview, confirm_mismatch: bool
) -> LinkOutcome:
    said = preview.evidence
    against = not (said.corroborated or preview.already_linked)
    if against and not confirm_mismatch:
        raise Refusal(RefusalCode.EVIDENCE_DISAGREES, created_record_id, said.disagreeing)
    outcome = link_created_record(
        session,
        district_id=staff.district_id,
        created_record_id=created_record_id,
        sis_record_id=preview.sis_record_id,
        method=preview.method,
        actor_staff_id=staff.staff_id,
        against_evidence=against_evidence_detail(said) if against else None,
    )
    logger.info(
        "created_record_linked_by_staff",
        created_record_id=created_record_id,
        sis_record_id=preview.sis_record_id,
        audit_id=outcome.audit_id,
        staff_id=staff.staff_id,
        against_evidence=against,
    )
    return outcome


def dismiss_suggestion(
    session: Session, staff: StaffMember, created_record_id: int, sis_record_id: int
) -> None:
    """Not this student: the pair is remembered (never suggested again), its suggestion dropped, audited."""
    find_created_record(session, staff.district_id, created_record_id)
    if not _sis_records(session, staff.district_id, Student.id == sis_record_id):
        raise Refusal(RefusalCode.SIS_RECORD_NOT_FOUND, created_record_id)
    _remember_dismissed(session, staff, created_record_id, [sis_record_id])
    session.execute(
        delete(SuggestionRow).where(
            SuggestionRow.district_id == staff.district_id,
            SuggestionRow.created_record_id == created_record_id,
            SuggestionRow.sis_record_id == sis_record_id,
        )
    )
    audit_staff_action(
        session, staff, AuditAction.DISMISS_SUGGESTION, created_record_id, sis_record_id=sis_record_id
    )
    logger.info("suggestion_dismissed", district_id=staff.district_id, created_record_id=created_record_id)


def not_these_students(
    session: Session, staff: StaffMember, created_record_id: int, sis_record_ids: list[int]
) -> None:
    """Staff said, creating the record, that it is none of these SIS students (Create anyway: a
    different student): each pair of the district's is remembered as dismissed, so none of them is
    ever suggested for it; a link by name stays possible."""
    found = session.scalars(
        select(Student.id).where(
            Student.district_id == staff.district_id,
            Student.origin == Origin.SIS,
            Student.id.in_(sis_record_ids),
        )
    ).all()
    _remember_dismissed(session, staff, created_record_id, list(found))


def _remember_dismissed(
    session: Session, staff: StaffMember, created_record_id: int, sis_record_ids: list[int]
) -> None:
    """The pairs staff said are two different children, never suggested again."""
    if sis_record_ids:
        session.execute(
            insert(DismissedSuggestion)
            .values(
                [
                    {
                        "created_record_id": created_record_id,
                        "sis_record_id": sis_record_id,
                        "district_id": staff.district_id,
                        "staff_id": staff.staff_id,
                    }
                    for sis_record_id in sis_record_ids
                ]
            )
            .on_conflict_do_nothing()
        )


def delete_created_record(session: Session, staff: StaffMember, created_record_id: int) -> None:
    """Delete an unlinked created record that never carried a learning plan; audited."""
    record = find_created_record(session, staff.district_id, created_record_id, lock=True)
    if record.had_learning_plan:
        raise Refusal(RefusalCode.HAS_LEARNING_PLAN, created_record_id)
    for table in (HoldRow, SuggestionRow, DismissedSuggestion):
        session.execute(delete(table).where(table.created_record_id == record.id))
    try:
        with session.begin_nested():
            session.execute(delete(Student).where(Student.id == record.id))
    except DBAPIError as error:
        # the database's own guard: a plan was attached in a race with this delete
        if getattr(error.orig, "sqlstate", None) == "P0002":
            raise Refusal(RefusalCode.HAS_LEARNING_PLAN, created_record_id) from None
        raise
    session.expunge(record)
    audit_staff_action(session, staff, AuditAction.DELETE, created_record_id)
    logger.info("created_record_deleted", created_record_id=created_record_id, staff_id=staff.staff_id)


def audit_staff_action(
    session: Session, staff: StaffMember, action: AuditAction, student_id: int, **detail: Any
) -> None:
    """One audit row: which staff member did what to which record (ids only)."""
    session.add(
        AuditEntry(
            district_id=staff.district_id,
            actor_kind="staff",
            actor_staff_id=staff.staff_id,
            action=action,
            student_id=student_id,
            detail=detail or None,
        )
    )
