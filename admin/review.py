"""The review page's facts: a held or suggested record's row and, for each SIS student its hold or
suggestion points at, how the two records agree field by field (the evidence the confirm page
shows, matching/link_evidence.py), so staff can tell which student it is before choosing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.caller import Caller
from admin.unlinked_table import UnlinkedRow, unlinked_row
from matching.core.agreement import Corroboration
from matching.link_evidence import pair_evidence
from matching.staff_links import find_created_record
from models import Origin, Student


@dataclass(frozen=True)
class ReviewView:
    row: UnlinkedRow
    evidence: dict[int, Corroboration]  # by SIS record id


def review_view(session: Session, caller: Caller, created_record_id: int) -> ReviewView | None:
    """None once the record is linked or deleted."""
    row = unlinked_row(session, caller, created_record_id)
    if row is None:
        return None
    wanted = [p.student.sis_record_id for p in row.pointed_at]
    if not wanted:
        return ReviewView(row, {})
    created = find_created_record(session, caller.district_id, created_record_id)
    students = session.scalars(
        select(Student).where(
            Student.district_id == caller.district_id, Student.origin == Origin.SIS, Student.id.in_(wanted)
        )
    )
    return ReviewView(row, {sis.id: pair_evidence(session, created, sis) for sis in students})
