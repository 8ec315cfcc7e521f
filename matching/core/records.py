"""The plain records the pure core decides on: a created record and its SIS candidates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Self

# the students table's columns a record is made of, in the order `from_columns` reads them
COLUMNS = (
    "id", "ssid", "other_id", "first_name", "middle_name", "last_name", "birth_date", "grade", "school_id",
)  # fmt: skip


def select_list(alias: str) -> str:
    """COLUMNS as a statement's select list, each taken from the table or subquery `alias`."""
    return ", ".join(f"{alias}.{column}" for column in COLUMNS)


@dataclass(frozen=True)
class PersonName:
    """A name as typed: given, middle (optional) and family name."""

    first: str
    last: str
    middle: str | None = None


@dataclass(frozen=True)
class StudentFacts:
    """What matching compares on a student record of either origin."""

    id: int
    district_id: str
    name: PersonName
    ssid: str | None = None
    other_id: str | None = None
    birth_date: date | None = None
    grade: str | None = None
    school_id: str | None = None

    @classmethod
    def of(cls, district_id: str, row: Any) -> Self:
        """From anything carrying the students table's column names as attributes: a result row
        or a model instance."""
        name = PersonName(row.first_name, row.last_name, row.middle_name)
        return cls(
            row.id, district_id, name, row.ssid, row.other_id, row.birth_date, row.grade, row.school_id
        )  # fmt: skip

    @classmethod
    def from_columns(cls, district_id: str, columns: Any, **more: Any) -> Self:
        """From the values of COLUMNS in that order (a pass reads a quarter of a million rows:
        looking each column up by name cost a second at a million records); `more` gives a
        subclass's own fields."""
        id_, ssid, other_id, first, middle, last, birth, grade, school = columns
        name = PersonName(first, last, middle)
        return cls(id_, district_id, name, ssid, other_id, birth, grade, school, **more)


@dataclass(frozen=True)
class CreatedRecord(StudentFacts):
    """A student made with "Create Student for ALE", waiting to be linked.

    typed_names_in_sis: whether an active SIS record carries its names exactly as typed, when
    the caller asked (the district pass asks when an id found a record the SIS sent after the
    created record was last saved, under other names)."""

    typed_names_in_sis: bool | None = None


@dataclass(frozen=True)
class SisCandidate(StudentFacts):
    """An active SIS record of the created record's district that one of its ids (or a typo) points at.

    sent_after_typing: found by an id of a created record, whether the SIS first sent it after
    staff last saved that record (the id was typed before the SIS had this child), when the
    caller asked."""

    sent_after_typing: bool | None = None
