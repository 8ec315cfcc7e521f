"""The Student Selector (active students of both origins, by name) and Initiate Learning Plan."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import structlog
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from admin.caller import Caller
from admin.errors import Refused, not_found
from admin.identifiers import mask_ssid
from admin.name_query import Lead, Order, Reading, reading_condition, readings, words
from matching.staff_links import audit_staff_action
from models import AuditAction, LearningPlan, Student, StudentStatus

logger = structlog.get_logger(__name__)

COUNT_CAP = 1000  # a count stops here: "more than 1,000 students" says enough to add a word
_CURSOR = re.compile(r"^([01])\.([a-z]*)\.([a-z]*)\.([0-9]{1,19})$")
_ACTIVE = "s.district_id = :d AND s.status = 'active'"
_DETAILS = """
SELECT s.id, s.first_name, s.last_name, s.origin, s.ssid, s.birth_date, s.grade, sc.name AS school,
       EXISTS (SELECT 1 FROM learning_plans p WHERE p.student_id = s.id AND p.district_id = :d
               AND p.school_year = :year) AS has_plan
FROM students s
LEFT JOIN schools sc ON sc.district_id = s.district_id AND sc.sis_source_id = s.school_id
WHERE s.district_id = :d AND s.id = ANY(CAST(:ids AS bigint[]))
"""


@dataclass(frozen=True)
class SelectorRow:
    student_id: int
    first_name: str
    last_name: str
    origin: str
    ssid_masked: str | None
    birth_date: date | None
    grade: str | None
    school: str | None
    has_plan: bool  # this school year's plan was started


@dataclass(frozen=True)
class SelectorPage:
    rows: list[SelectorRow]
    page_size: int
    total: int  # exact up to COUNT_CAP; past it, COUNT_CAP with total_exact false
    total_exact: bool
    school_year: str
    next_after: str | None  # the cursor of the next page, when there is one
    has_more: bool


@dataclass(frozen=True, order=True)
class Cursor:
    """Where a page ended: the reading's order, its two keys, the record id."""

    order: int
    k1: str
    k2: str
    id: int

    def text(self) -> str:
        return f"{self.order}.{self.k1}.{self.k2}.{self.id}"

    @classmethod
    def parse(cls, value: str | None) -> Cursor | None:
        if not value:
            return None
        found = _CURSOR.fullmatch(value)
        if found is None:
            raise Refused(422, "invalid_cursor", "That page of results is not available. Search again.")
        return cls(int(found[1]), found[2], found[3], int(found[4]))


def _keys(reading: Reading) -> tuple[str, str]:
    if reading.order is Order.SURNAME:
        return "s.search_last", "s.search_first"
    return "s.search_first", "s.search_last"


def _branch(reading: Reading, excluded: str, cursor: Cursor | None, limit: int, ordered: bool) -> str | None:
    """One reading's rows in name order from its index, at most `limit`, after the cursor."""
    k1, k2 = _keys(reading)
    where = [_ACTIVE, reading_condition(reading)]
    if cursor is not None and ordered:
        if cursor.order > reading.order:
            return None
        if cursor.order == reading.order:
            where.append(f"({k1}, {k2}, s.id) > ('{cursor.k1}', '{cursor.k2}', {cursor.id})")
    if reading.order is Order.GIVEN and excluded:
        where.append(f"NOT ({excluded})")  # found by surname already
    columns = f"s.id, {k1} AS k1, {k2} AS k2, {int(reading.order)} AS o" if ordered else "s.id"
    # in index order even to count: an ordered index scan stops at the limit, where a bitmap scan
    # would first read the whole surname block. Surnames with a particle put in are the exception:
    # few, and looked up whole (the planner, guessing each at a district's average surname, would
    # otherwise walk the district's whole index in order for them)
    order = "" if reading.lead is Lead.ONE_OF else f"ORDER BY {k1}, {k2}, s.id LIMIT {limit}"
    return f"(SELECT {columns} FROM students s WHERE {' AND '.join(where)} {order})"


def _branches(found: list[Reading], cursor: Cursor | None, limit: int, ordered: bool) -> list[str]:
    excluded = " OR ".join(f"({reading_condition(r)})" for r in found if r.order is Order.SURNAME)
    branches = (_branch(r, excluded, cursor, limit, ordered) for r in found)
    return [b for b in branches if b]


def search_selector(
    session: Session, caller: Caller, query: str, page_size: int, after: str | None = None
) -> SelectorPage:
    """Active records (merged ones are gone) that the query names, surname readings first, each
    in name order; a page is read from the indexes, never a whole surname block."""
    found = readings(query)
    cursor = Cursor.parse(after)
    params = {"d": caller.district_id}
    page_sql = " UNION ".join(_branches(found, cursor, page_size + 1, ordered=True))
    # a subquery, so that a single reading's own ORDER BY and LIMIT stay its own
    page = f"SELECT id, k1, k2, o FROM ({page_sql}) p ORDER BY o, k1, k2, id LIMIT {page_size + 1}"
    keys = session.execute(text(page), params).all()
    if cursor is None and len(keys) <= page_size:
        total = len(keys)  # all on the first page: nothing more to count
    else:
        count_sql = " UNION ".join(_branches(found, None, COUNT_CAP + 1, ordered=False))
        total = session.execute(text(f"SELECT count(*) FROM ({count_sql}) u"), params).scalar_one()
    year = school_year_of(date.today())
    shown = keys[:page_size]
    rows = selector_rows(session, caller.district_id, [k.id for k in shown])
    last = shown[-1] if shown else None
    has_more = len(keys) > page_size
    return SelectorPage(
        rows=rows,
        page_size=page_size,
        total=min(total, COUNT_CAP),
        total_exact=total <= COUNT_CAP,
        school_year=year,
        next_after=Cursor(last.o, last.k1, last.k2, last.id).text() if has_more and last else None,
        has_more=has_more,
    )


def selector_rows(session: Session, district_id: str, ids: list[int]) -> list[SelectorRow]:
    """These students as the selector shows them, in this order."""
    if not ids:
        return []
    params = {"d": district_id, "year": school_year_of(date.today()), "ids": ids}
    details = {r.id: r for r in session.execute(text(_DETAILS), params)}
    return [_row(details[i]) for i in ids if i in details]


def _row(r: Any) -> SelectorRow:
    return SelectorRow(
        r.id, r.first_name, r.last_name, str(r.origin), mask_ssid(r.ssid), r.birth_date, r.grade, r.school,
        bool(r.has_plan),
    )  # fmt: skip


def school_year_of(day: date) -> str:
    """Washington's school year starts on 1 September: 2026-09-01 is in 2026-27."""
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


@dataclass(frozen=True)
class PlanOutcome:
    plan_id: int
    student_id: int
    school_year: str
    started: bool  # False: the student already had a plan for that year


def initiate_learning_plan(session: Session, caller: Caller, student_id: int) -> PlanOutcome:
    """Start this school year's learning plan for an active student of the caller's district."""
    # the row lock keeps a concurrent link from merging the record while its plan is added
    student = session.execute(
        select(Student)
        .where(
            Student.id == student_id,
            Student.district_id == caller.district_id,
            Student.status == StudentStatus.ACTIVE,
        )
        .with_for_update()
    ).scalar_one_or_none()
    if student is None:
        raise not_found()
    today = date.today()
    year = school_year_of(today)
    existing = session.execute(
        select(LearningPlan.id).where(LearningPlan.student_id == student.id, LearningPlan.school_year == year)
    ).scalar_one_or_none()
    if existing is not None:
        return PlanOutcome(existing, student.id, year, started=False)
    plan = LearningPlan(
        district_id=caller.district_id,
        student_id=student.id,
        started_on_student_id=student.id,
        school_year=year,
        start_date=today,
        created_by_staff_id=caller.staff_id,
    )
    session.add(plan)
    session.flush()
    audit_staff_action(session, caller, AuditAction.INITIATE_PLAN, student.id, plan_id=plan.id)
    logger.info("learning_plan_initiated", plan_id=plan.id, student_id=student.id, staff_id=caller.staff_id)
    return PlanOutcome(plan.id, student.id, year, started=True)


def refuse_if_blank(query: str) -> None:
    if not words(query):
        raise Refused(422, "query_required", "Type the beginning of the student's first or last name.")
