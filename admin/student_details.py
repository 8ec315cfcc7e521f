"""Birth date, grade and school typed on a created record: optional, checked, and kept in the forms
the SIS uses, so that matching compares like with like (matching/core/compare.py)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.caller import Caller
from admin.errors import Refused
from matching.core.compare import grade_number
from models import School

OLDEST_AGE = 30  # years: older than any student an ALE program serves

# the SIS's (OneRoster's) grade codes, lowest first, with the words staff read
GRADES: dict[str, str] = {
    "PK": "Pre-kindergarten",
    "KG": "Kindergarten",
    **{f"{n:02d}": f"Grade {n}" for n in range(1, 13)},
}


def clean_birth_date(value: str | date | None, today: date | None = None) -> date | None:
    """A birth date as typed (YYYY-MM-DD, as a date input sends it); None when blank."""
    if value is None or isinstance(value, date):
        typed = value
    elif not value.strip():
        return None
    else:
        try:
            typed = date.fromisoformat(value.strip())
        except ValueError:
            raise Refused(
                422, "invalid_birth_date", "Check the birth date: enter it as year-month-day."
            ) from None
    if typed is None:
        return None
    today = today or date.today()
    if typed > today or typed.year < today.year - OLDEST_AGE:
        raise Refused(
            422,
            "invalid_birth_date",
            f"Check the birth date: it must be in the past and less than {OLDEST_AGE} years ago.",
        )
    return typed


def clean_grade(value: str | None) -> str | None:
    """A grade as the SIS codes it (PK, KG, 01 to 12); "K", "1" or "Grade 1" are read too."""
    text = (value or "").strip().upper().removeprefix("GRADE").strip()
    if not text:
        return None
    number = grade_number(text)
    if number is None or not -1 <= number <= 12:
        raise Refused(422, "invalid_grade", "Check the grade: Pre-kindergarten, Kindergarten or 1 to 12.")
    return list(GRADES)[number + 1]


def district_schools(session: Session, caller: Caller) -> dict[str, str]:
    """The district's schools, id to name, in name order (the create form's choices)."""
    rows = session.execute(
        select(School.sis_source_id, School.name)
        .where(School.district_id == caller.district_id)
        .order_by(School.name, School.sis_source_id)
    )
    return {str(sis_source_id): str(name) for sis_source_id, name in rows.tuples()}


def clean_school(value: str | None, schools: dict[str, str]) -> str | None:
    """A school of the district, by its SIS id; None when blank."""
    text = (value or "").strip()
    if not text:
        return None
    if text not in schools:
        raise Refused(422, "unknown_school", "Choose one of your district's schools.")
    return text
