"""The row actions of Link Student to ALE: ranked candidates, link three ways, dismiss, link history.

Every link goes through matching's one merge function; this module only checks the
caller's district, turns refusals into HTTP answers and adds what the screen shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

import structlog
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from admin.auth import Caller
from admin.errors import Refused, not_found
from admin.identifiers import clean_other_id, clean_ssid, mask_ssid
from matching import manual
from matching.link import LinkOutcome, LinkRefused, link_created_record
from matching.name_search import rank_candidates
from matching.review import dismiss_suggestion
from models import (
    DismissedSuggestion,
    LinkAudit,
    LinkMethod,
    Origin,
    School,
    Staff,
    Student,
    StudentStatus,
    SuggestionRow,
)

logger = structlog.get_logger(__name__)

REFUSAL_STATUS = {
    "not_found": 404,
    "already_linked_elsewhere": 409,
    "not_active": 409,
    "sis_record_inactive": 409,
    "ids_contradict": 422,
    "ambiguous_other_id": 409,
}
REFUSAL_TEXT = {
    "not_found": "no active SIS record of your district has that id",
    "already_linked_elsewhere": "that SIS record already has a created record linked to it",
    "not_active": "this record is already linked or no longer exists",
    "sis_record_inactive": "that SIS record is no longer active",
    "ids_contradict": "the ids on the two records contradict each other",
    "ambiguous_other_id": "several SIS students of your district have this Other ID; link by name instead",
}


@contextmanager
def link_refusals() -> Iterator[None]:
    try:
        yield
    except LinkRefused as refusal:
        code = str(refusal.code)
        raise Refused(
            REFUSAL_STATUS.get(code, 409), code, REFUSAL_TEXT.get(code, "the link was refused")
        ) from None


@dataclass(frozen=True)
class SisSummary:
    sis_record_id: int
    first_name: str
    last_name: str
    ssid_masked: str | None
    birth_date: date | None
    grade: str | None
    school: str | None


@dataclass(frozen=True)
class Candidate:
    summary: SisSummary
    score: float
    reasons: list[str]
    already_linked_created_record_id: int | None


def sis_summaries(session: Session, district_id: str, ids: list[int]) -> dict[int, SisSummary]:
    rows = session.execute(
        select(Student, School.name)
        .outerjoin(School, and_(School.district_id == district_id, School.sis_source_id == Student.school_id))
        .where(Student.district_id == district_id, Student.origin == Origin.SIS, Student.id.in_(ids))
    ).all()
    return {
        s.id: SisSummary(s.id, s.first_name, s.last_name, mask_ssid(s.ssid), s.birth_date, s.grade, school)
        for s, school in rows
    }


def unlinked_record(session: Session, district_id: str, created_record_id: int) -> Student:
    record = session.execute(
        select(Student).where(
            Student.id == created_record_id,
            Student.district_id == district_id,
            Student.origin == Origin.CREATED,
            Student.status == StudentStatus.ACTIVE,
        )
    ).scalar_one_or_none()
    if record is None:
        raise not_found("unlinked record")
    return record


def ranked_candidates(
    session: Session, caller: Caller, created_record_id: int, limit: int
) -> list[Candidate]:
    unlinked_record(session, caller.district_id, created_record_id)
    ranked = rank_candidates(session, caller.district_id, created_record_id, limit=limit)
    summaries = sis_summaries(session, caller.district_id, [r.sis_record_id for r in ranked])
    return [
        Candidate(summaries[r.sis_record_id], r.score, list(r.reasons), r.already_linked_created_record_id)
        for r in ranked
        if r.sis_record_id in summaries
    ]


@dataclass(frozen=True)
class LinkResult:
    created_record_id: int
    sis_record_id: int
    audit_id: int
    plans_moved: int
    already_linked: bool


def created_record_of(session: Session, district_id: str, created_record_id: int) -> None:
    """404 unless the district has this created record; linked ones pass, so a retried link is a no-op."""
    found = session.execute(
        select(Student.id).where(
            Student.id == created_record_id,
            Student.district_id == district_id,
            Student.origin == Origin.CREATED,
        )
    ).scalar_one_or_none()
    if found is None:
        raise not_found("unlinked record")


def refuse_if_taken(session: Session, district_id: str, created_record_id: int, sis_record_id: int) -> None:
    """An SIS record another created record was merged into is not offered (or linked) again."""
    other = session.execute(
        select(LinkAudit.created_record_id)
        .where(
            LinkAudit.district_id == district_id,
            LinkAudit.sis_record_id == sis_record_id,
            LinkAudit.created_record_id != created_record_id,
        )
        .limit(1)
    ).scalar_one_or_none()
    if other is not None:
        raise Refused(409, "already_linked_elsewhere", REFUSAL_TEXT["already_linked_elsewhere"])


def link_to_sis_record(
    session: Session, caller: Caller, created_record_id: int, sis_record_id: int
) -> LinkResult:
    """Staff chose an SIS record from the name search: the permanent merge."""
    created_record_of(session, caller.district_id, created_record_id)
    refuse_if_taken(session, caller.district_id, created_record_id, sis_record_id)
    with link_refusals():
        outcome = link_created_record(
            session,
            district_id=caller.district_id,
            created_record_id=created_record_id,
            sis_record_id=sis_record_id,
            method=LinkMethod.NAME_SEARCH,
            actor_staff_id=caller.staff_id,
        )
    return _logged(
        caller,
        LinkResult(
            created_record_id, sis_record_id, outcome.audit_id, outcome.plans_moved, outcome.already_linked
        ),
    )


def link_by_entered_id(
    session: Session,
    caller: Caller,
    created_record_id: int,
    *,
    ssid: str | None = None,
    other_id: str | None = None,
) -> LinkResult:
    """Staff typed the SSID or the Other ID: matching finds the SIS record and merges."""
    created_record_of(session, caller.district_id, created_record_id)
    link: Callable[..., LinkOutcome]
    if ssid is not None:
        link, value, key = manual.link_by_ssid, clean_ssid(ssid), "ssid"
    else:
        link, value, key = manual.link_by_other_id, clean_other_id(other_id), "other_id"
    if value is None:
        raise Refused(422, f"{key}_required", "enter the id to link with")
    target = find_sis_by_id(session, caller.district_id, **{key: value})
    with link_refusals():
        outcome = link(
            session,
            district_id=caller.district_id,
            created_record_id=created_record_id,
            actor_staff_id=caller.staff_id,
            **{key: value},
        )
    sis_id = target.sis_record_id if target else 0
    return _logged(
        caller,
        LinkResult(created_record_id, sis_id, outcome.audit_id, outcome.plans_moved, outcome.already_linked),
    )


def _logged(caller: Caller, result: LinkResult) -> LinkResult:
    logger.info(
        "created_record_linked_by_staff",
        created_record_id=result.created_record_id,
        sis_record_id=result.sis_record_id,
        audit_id=result.audit_id,
        staff_id=caller.staff_id,
    )
    return result


def find_sis_by_id(
    session: Session, district_id: str, *, ssid: str | None = None, other_id: str | None = None
) -> SisSummary | None:
    """The active SIS record an entered id points at, for the confirmation before a merge."""
    column, value = (Student.ssid, ssid) if ssid is not None else (Student.other_id, other_id)
    ids = (
        session.execute(
            select(Student.id)
            .where(
                Student.district_id == district_id,
                Student.origin == Origin.SIS,
                Student.status == StudentStatus.ACTIVE,
                column == value,
            )
            .limit(2)
        )
        .scalars()
        .all()
    )
    if len(ids) != 1:
        return None
    return sis_summaries(session, district_id, list(ids)).get(ids[0])


def open_suggestions(session: Session, district_id: str, created_record_id: int) -> set[int]:
    """SIS records matching suggested for this record (e.g. a possible SSID typo), not dismissed."""
    dismissed = select(DismissedSuggestion.sis_record_id).where(
        DismissedSuggestion.created_record_id == created_record_id
    )
    return set(
        session.execute(
            select(SuggestionRow.sis_record_id).where(
                SuggestionRow.district_id == district_id,
                SuggestionRow.created_record_id == created_record_id,
                SuggestionRow.sis_record_id.not_in(dismissed),
            )
        ).scalars()
    )


def dismiss(session: Session, caller: Caller, created_record_id: int, sis_record_id: int) -> None:
    unlinked_record(session, caller.district_id, created_record_id)
    with link_refusals():
        dismiss_suggestion(
            session,
            district_id=caller.district_id,
            created_record_id=created_record_id,
            sis_record_id=sis_record_id,
            staff_id=caller.staff_id,
        )


@dataclass(frozen=True)
class LinkHistoryEntry:
    audit_id: int
    created_record_id: int
    sis_record_id: int
    method: str
    linked_by: str  # a staff member's name, or "automatic"
    batch_id: int | None
    plans_moved: int
    linked_at: datetime


def link_history(session: Session, district_id: str, student_id: int) -> list[LinkHistoryEntry]:
    """Every link that touched this student (as the created or the SIS side), oldest first."""
    exists_here = session.execute(
        select(Student.id).where(Student.id == student_id, Student.district_id == district_id)
    ).scalar_one_or_none()
    if exists_here is None:
        raise not_found()
    actor = aliased(Staff)
    rows = session.execute(
        select(LinkAudit, actor.name)
        .outerjoin(actor, actor.id == LinkAudit.actor_staff_id)
        .where(
            LinkAudit.district_id == district_id,
            or_(LinkAudit.created_record_id == student_id, LinkAudit.sis_record_id == student_id),
        )
        .order_by(LinkAudit.linked_at, LinkAudit.id)
    ).all()
    return [
        LinkHistoryEntry(
            a.id,
            a.created_record_id,
            a.sis_record_id,
            str(a.method),
            name or "automatic",
            a.batch_id,
            a.plans_moved,
            a.linked_at,
        )
        for a, name in rows
    ]
