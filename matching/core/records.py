"""The plain records the pure core decides on: a created record and its SIS candidates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


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


@dataclass(frozen=True)
class CreatedRecord(StudentFacts):
    """A student made with "Create Student for ALE", waiting to be linked."""


@dataclass(frozen=True)
class SisCandidate(StudentFacts):
    """An active SIS record of the created record's district that one of its ids (or a typo) points at."""
