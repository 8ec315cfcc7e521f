"""Record builders shared by the matching integration tests (this module holds no tests)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import District, LearningPlan, Origin, Student


def district(session: Session, code: str = "17001") -> str:
    if session.get(District, code) is None:
        session.add(District(id=code, name=f"District {code}"))
        session.flush()
    return code


def created(session: Session, district_id: str, first: str, last: str, **fields: Any) -> Student:
    record = Student(
        district_id=district_id, origin=Origin.CREATED, first_name=first, last_name=last, **fields
    )
    session.add(record)
    session.flush()
    return record


def sis(session: Session, district_id: str, first: str, last: str, **fields: Any) -> Student:
    fields.setdefault("sis_source_id", f"stu-{first}-{last}-{fields.get('ssid') or fields.get('other_id')}")
    record = Student(district_id=district_id, origin=Origin.SIS, first_name=first, last_name=last, **fields)
    session.add(record)
    session.flush()
    return record


def plan(session: Session, student: Student) -> LearningPlan:
    row = LearningPlan(
        district_id=student.district_id,
        student_id=student.id,
        started_on_student_id=student.id,
        school_year="2026-27",
        start_date=date(2026, 9, 1),
    )
    session.add(row)
    session.flush()
    return row


def count(session: Session, model: Any, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)
