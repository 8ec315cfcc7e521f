"""One student as staff see them (the card, this year's plan, where a created record went), and
the students whose names are the same as or very like a name about to be created."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from admin.caller import Caller
from admin.errors import not_found
from admin.identifiers import mask_ssid
from admin.name_query import KEY
from admin.selector import SelectorRow, school_year_of, selector_rows
from matching.name_search import family_keys, given_keys

SIMILAR_SHOWN = 5
_CARD = """
SELECT s.id, s.origin, s.status, s.first_name, s.last_name, s.ssid, s.other_id, s.birth_date, s.grade,
       sc.name AS school, s.merged_into_id, s.had_learning_plan,
       (SELECT string_agg(p.school_year, ',' ORDER BY p.school_year) FROM learning_plans p
         WHERE p.student_id = s.id AND p.district_id = s.district_id) AS plan_years
FROM students s
LEFT JOIN schools sc ON sc.district_id = s.district_id AND sc.sis_source_id = s.school_id
WHERE s.district_id = :d AND s.id = :id
"""


@dataclass(frozen=True)
class StudentCard:
    student_id: int
    origin: str  # sis | created
    status: str  # active | inactive | merged
    first_name: str
    last_name: str
    ssid_masked: str | None
    other_id: str | None  # a created record's, as staff typed it; an SIS record's is not shown
    birth_date: date | None
    grade: str | None
    school: str | None
    merged_into_id: int | None
    plan_years: list[str]
    school_year: str  # this school year

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def has_plan_this_year(self) -> bool:
        return self.school_year in self.plan_years


def student_card(session: Session, caller: Caller, student_id: int) -> StudentCard:
    """A student of the caller's district, of any origin and status (a merged one says where it went)."""
    r = session.execute(text(_CARD), {"d": caller.district_id, "id": student_id}).first()
    if r is None:
        raise not_found()
    return StudentCard(
        r.id, str(r.origin), str(r.status), r.first_name, r.last_name, mask_ssid(r.ssid),
        r.other_id if str(r.origin) == "created" else None, r.birth_date, r.grade, r.school,
        r.merged_into_id, r.plan_years.split(",") if r.plan_years else [], school_year_of(date.today()),
    )  # fmt: skip


def _in(column: str, keys: set[str]) -> str:
    listed = sorted(k for k in keys if k and KEY.fullmatch(k))
    return f"{column} IN ({', '.join(repr(k) for k in listed)})" if listed else "FALSE"


def similar_students(session: Session, caller: Caller, first_name: str, last_name: str) -> list[SelectorRow]:
    """Active students of the district (created or SIS) with the same name or a very like one: the
    same family name (with or without particles) and the same given name, a nickname of it, or one
    it begins; or the two names swapped. Index look-ups on the selector's name index only."""
    firsts, lasts = given_keys(first_name), family_keys(last_name)
    if not firsts or not lasts:
        return []
    begins = " OR ".join(f"s.search_first LIKE '{k}%'" for k in sorted(firsts) if KEY.fullmatch(k))
    same = f"{_in('s.search_last', lasts)} AND ({_in('s.search_first', firsts)} OR {begins or 'FALSE'})"
    swapped = (
        f"{_in('s.search_last', family_keys(first_name))} AND {_in('s.search_first', given_keys(last_name))}"
    )
    statement = (
        "SELECT s.id FROM students s WHERE s.district_id = :d AND s.status = 'active'"
        f" AND (({same}) OR ({swapped})) ORDER BY s.origin DESC, s.id LIMIT {SIMILAR_SHOWN}"
    )
    ids: list[Any] = list(session.execute(text(statement), {"d": caller.district_id}).scalars())
    return selector_rows(session, caller.district_id, ids)
