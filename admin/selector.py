"""The Student Selector (active students of both origins, by name) and Initiate Learning Plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import structlog
from sqlalchemy import ColumnElement, Text, and_, exists, literal, literal_column, or_, select
from sqlalchemy.orm import Session

from admin.caller import Caller
from admin.errors import Refused, not_found
from matching.core.search_keys import UNDECOMPOSED, name_key
from matching.staff_links import audit_staff_action
from models import AuditAction, LearningPlan, School, Student, StudentStatus

logger = structlog.get_logger(__name__)

MAX_TOKENS = 4
UNDECOMPOSED_SQL = f"{''.join(UNDECOMPOSED)}', '{''.join(UNDECOMPOSED.values())}"
# the given name folded as the name keys fold it (matching/core/search_keys.py) but keeping spaces
# and hyphens: only the marks a decomposition leaves are removed, and only for names that are
# not plain ASCII (a regexp over every row costs more than a surname block of thousands affords)
FIRST_NAME_FOLDED = literal_column(
    "CASE WHEN octet_length(students.first_name) = char_length(students.first_name)"
    " THEN lower(students.first_name)"
    f" ELSE regexp_replace(translate(normalize(lower(students.first_name), NFKD), '{UNDECOMPOSED_SQL}'),"
    " '[\u0300-\u036f]+', '', 'g') END",
    Text,
)


@dataclass(frozen=True)
class SelectorRow:
    student_id: int
    first_name: str
    last_name: str
    origin: str
    grade: str | None
    school: str | None
    has_plan: bool


@dataclass(frozen=True)
class SelectorPage:
    rows: list[SelectorRow]
    page: int
    page_size: int
    has_more: bool


def name_tokens(query: str) -> list[str]:
    """The query's words as name keys (plain a-z, as stored in search_last / search_first)."""
    keys = (name_key(word) for word in query.replace(",", " ").split())
    return [key for key in keys if key][:MAX_TOKENS]


def _prefix(token: str) -> Any:
    # keys are plain a-z, so the prefix needs no escaping; it is written into the statement (not
    # bound) so that even a reused prepared plan sees a constant prefix: an index range in C collation
    return literal(f"{token}%", literal_execute=True)


def _surname_anchor(tokens: list[str]) -> ColumnElement[bool]:
    """Some word begins the surname: the index range that keeps a million-row district fast.
    A lone initial ("nguyen a") only narrows; as a surname prefix it would match a tenth of a district."""
    words = [t for t in tokens if len(t) > 1] or tokens
    return or_(*(Student.search_last.like(_prefix(t)) for t in words))


def _begins_a_name(token: str) -> ColumnElement[bool]:
    return or_(Student.search_last.like(_prefix(token)), FIRST_NAME_FOLDED.like(_prefix(token)))


def search_selector(session: Session, caller: Caller, query: str, page: int, page_size: int) -> SelectorPage:
    """Active records (merged ones are gone) whose surname begins with one of the words and whose
    names begin with every word: "nguyen", "nguyen ava" and "ava ngu" all find Ava Nguyen."""
    district_id = caller.district_id
    has_plan = exists().where(LearningPlan.student_id == Student.id, LearningPlan.district_id == district_id)
    stmt = (
        select(Student, School.name, has_plan)
        .outerjoin(
            School,
            and_(School.district_id == Student.district_id, School.sis_source_id == Student.school_id),
        )
        .where(Student.district_id == district_id, Student.status == StudentStatus.ACTIVE)
    )
    tokens = name_tokens(query)
    if tokens:
        stmt = stmt.where(_surname_anchor(tokens), *(_begins_a_name(t) for t in tokens))
    stmt = stmt.order_by(Student.search_last, Student.first_name, Student.id)
    rows = session.execute(stmt.offset((page - 1) * page_size).limit(page_size + 1)).all()
    return SelectorPage(
        rows=[
            SelectorRow(s.id, s.first_name, s.last_name, str(s.origin), s.grade, school, bool(plan))
            for s, school, plan in rows[:page_size]
        ],
        page=page,
        page_size=page_size,
        has_more=len(rows) > page_size,
    )


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
    if not name_tokens(query):
        raise Refused(422, "query_required", "type part of a first or last name")
