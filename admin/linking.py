"""What Link Student to ALE shows around the staff-linking service: SIS records as staff see them,
the name search's ranked candidates with their field-by-field agreement, open suggestions,
and a student's link history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from admin.caller import Caller
from admin.errors import not_found
from admin.identifiers import mask_ssid
from matching.core.agreement import agreement_of
from matching.core.compare import Level
from matching.core.records import SisCandidate
from matching.name_search import rank_unlinked_candidates
from matching.refusals import Refusal, RefusalCode
from models import DismissedSuggestion, LinkAudit, Origin, School, Staff, Student, SuggestionRow


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
class FieldShown:
    """One field of a candidate against the created record: equal, close, different or missing,
    and the finer level ("one edit", "nickname", "day and month swapped" is close)."""

    field: str
    agreement: str
    level: str


@dataclass(frozen=True)
class Candidate:
    summary: SisSummary
    score: float
    reasons: list[str]
    already_linked_created_record_id: int | None
    weight: float = 0.0  # the summed evidence, in bits
    agreement: list[FieldShown] = field(default_factory=list)  # every field, in a fixed order
    tied: bool = False  # another listed candidate has the very same evidence
    separating_fields: list[str] = field(default_factory=list)  # not typed on the record, would separate

    def shown(self, name: str) -> FieldShown | None:
        """The agreement of one field ("given name", "birth date", ...), for the page's columns."""
        return next((f for f in self.agreement if f.field == name), None)


def fields_shown(agreement: dict[str, str]) -> list[FieldShown]:
    return [FieldShown(name, str(agreement_of(Level(level))), level) for name, level in agreement.items()]


def sis_summaries(session: Session, district_id: str, ids: list[int]) -> dict[int, SisSummary]:
    # the shown columns as plain rows: no ORM object per candidate
    rows = session.execute(
        select(Student.id, Student.first_name, Student.last_name, Student.ssid, Student.birth_date)
        .add_columns(Student.grade, School.name.label("school"))
        .outerjoin(School, and_(School.district_id == district_id, School.sis_source_id == Student.school_id))
        .where(Student.district_id == district_id, Student.origin == Origin.SIS, Student.id.in_(ids))
    ).all()
    return {
        s.id: SisSummary(s.id, s.first_name, s.last_name, mask_ssid(s.ssid), s.birth_date, s.grade, s.school)
        for s in rows
    }


def ranked_candidates(
    session: Session, caller: Caller, created_record_id: int, limit: int
) -> list[Candidate]:
    """Search by name for one unlinked record: the district's SIS records, best first, each explained."""
    ranked = rank_unlinked_candidates(session, caller.district_id, created_record_id, limit=limit)
    if ranked is None:
        raise Refusal(RefusalCode.CREATED_RECORD_NOT_FOUND, created_record_id)
    return [
        Candidate(
            _summary(r.sis_record, r.school), r.score, list(r.reasons), r.already_linked_created_record_id,
            r.weight, fields_shown(r.agreement), r.tied, list(r.separating_fields),
        )
        for r in ranked
        if r.sis_record is not None
    ]  # fmt: skip


def _summary(s: SisCandidate, school: str | None) -> SisSummary:
    return SisSummary(s.id, s.name.first, s.name.last, mask_ssid(s.ssid), s.birth_date, s.grade, school)


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
    against_evidence: list[str] | None = None  # linked by staff although these fields disagreed


def link_history(session: Session, caller: Caller, student_id: int) -> list[LinkHistoryEntry]:
    """Every link that touched this student (as the created or the SIS side), oldest first."""
    exists_here = session.execute(
        select(Student.id).where(Student.id == student_id, Student.district_id == caller.district_id)
    ).scalar_one_or_none()
    if exists_here is None:
        raise not_found()
    actor = aliased(Staff)
    rows = session.execute(
        select(LinkAudit, actor.name)
        .outerjoin(actor, actor.id == LinkAudit.actor_staff_id)
        .where(
            LinkAudit.district_id == caller.district_id,
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
            list(a.against_evidence["fields"]) if a.against_evidence else None,
        )
        for a, name in rows
    ]
