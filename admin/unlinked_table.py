"""Link Student to ALE: the district's unlinked created records, their status, and the held ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ScalarSelect, Select, and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from admin.caller import Caller
from admin.identifiers import mask_ssid
from models import DismissedSuggestion, HoldRow, Origin, School, Staff, Student, StudentStatus, SuggestionRow


@dataclass(frozen=True)
class UnlinkedRow:
    created_record_id: int
    first_name: str
    last_name: str
    ssid_masked: str | None
    other_id: str | None
    created_by: str | None
    created_at: datetime
    has_plan: bool
    status: str  # waiting | held | suggested
    hold_reason: str | None
    suggested_sis_record_id: int | None


@dataclass(frozen=True)
class UnlinkedPage:
    rows: list[UnlinkedRow]
    page: int
    page_size: int
    total: int


def _unlinked(district_id: str) -> Select[tuple[Student]]:
    return select(Student).where(
        Student.district_id == district_id,
        Student.origin == Origin.CREATED,
        Student.status == StudentStatus.ACTIVE,
    )


def _open_suggestion(district_id: str) -> ScalarSelect[int]:
    dismissed = exists().where(
        DismissedSuggestion.created_record_id == SuggestionRow.created_record_id,
        DismissedSuggestion.sis_record_id == SuggestionRow.sis_record_id,
    )
    return (
        select(func.min(SuggestionRow.sis_record_id))
        .where(
            SuggestionRow.district_id == district_id,
            SuggestionRow.created_record_id == Student.id,
            ~dismissed,
        )
        .scalar_subquery()
    )


def _status(hold_reason: str | None, suggested: int | None) -> str:
    if hold_reason:
        return "held"
    return "suggested" if suggested is not None else "waiting"


def unlinked_page(session: Session, caller: Caller, page: int, page_size: int) -> UnlinkedPage:
    """One page, newest first: name, ids entered (SSID masked), who created it and when, plan, status."""
    district_id = caller.district_id
    # the page's ids (and the total, counted on the way) come first, from the index alone; the joins
    # and the suggestion lookup then run for those rows only, not for every row the offset skips
    page_ids = (
        _unlinked(district_id)
        .with_only_columns(Student.id, Student.created_at, func.count().over().label("total"))
        .order_by(Student.created_at.desc(), Student.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
        .subquery()
    )
    # plain columns, not entities: a page is read, never changed, so no identity map is needed
    stmt = (
        select(
            Student.id,
            Student.first_name,
            Student.last_name,
            Student.ssid,
            Student.other_id,
            Staff.name.label("created_by"),
            Student.created_at,
            Student.had_learning_plan,
            HoldRow.reason,
            _open_suggestion(district_id).label("suggested"),
            page_ids.c.total,
        )
        .join(page_ids, page_ids.c.id == Student.id)
        .outerjoin(Staff, Staff.id == Student.created_by_staff_id)
        .outerjoin(HoldRow, and_(HoldRow.created_record_id == Student.id, HoldRow.district_id == district_id))
        .order_by(page_ids.c.created_at.desc(), page_ids.c.id.desc())
    )
    found = session.execute(stmt).all()
    rows = [
        UnlinkedRow(
            r.id,
            r.first_name,
            r.last_name,
            mask_ssid(r.ssid),
            r.other_id,
            r.created_by,
            r.created_at,
            r.had_learning_plan,
            _status(r.reason, r.suggested),
            str(r.reason) if r.reason else None,
            r.suggested,
        )
        for r in found
    ]
    if found:
        return UnlinkedPage(rows, page, page_size, found[0].total)
    # past the last page: the count comes on its own
    count = _unlinked(district_id).with_only_columns(func.count())
    return UnlinkedPage(rows, page, page_size, session.execute(count).scalar_one())


@dataclass(frozen=True)
class HeldRow:
    created_record_id: int
    first_name: str
    last_name: str
    ssid_masked: str | None
    other_id: str | None
    reason: str
    held_since: datetime
    candidate_sis_record_id: int | None
    candidate_first_name: str | None
    candidate_last_name: str | None
    candidate_ssid_masked: str | None
    candidate_school: str | None
    candidate_grade: str | None


def held_records(session: Session, caller: Caller, limit: int = 500) -> list[HeldRow]:
    """The records matching held for a person, oldest hold first, with the candidate it pointed at."""
    district_id = caller.district_id
    candidate = aliased(Student)
    stmt = (
        _unlinked(district_id)
        .join(HoldRow, and_(HoldRow.created_record_id == Student.id, HoldRow.district_id == district_id))
        .outerjoin(
            candidate,
            and_(candidate.id == HoldRow.candidate_sis_record_id, candidate.district_id == district_id),
        )
        .outerjoin(
            School, and_(School.district_id == district_id, School.sis_source_id == candidate.school_id)
        )
        .add_columns(HoldRow, candidate, School.name)
        .order_by(HoldRow.first_held_at, Student.id)
        .limit(limit)
    )
    out = []
    for s, hold, cand, school in session.execute(stmt).all():
        out.append(
            HeldRow(
                s.id,
                s.first_name,
                s.last_name,
                mask_ssid(s.ssid),
                s.other_id,
                str(hold.reason),
                hold.first_held_at,
                hold.candidate_sis_record_id,
                cand.first_name if cand else None,
                cand.last_name if cand else None,
                mask_ssid(cand.ssid) if cand else None,
                school,
                cand.grade if cand else None,
            )
        )
    return out
