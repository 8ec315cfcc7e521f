"""Birth date and grade typed on a created record: read in the forms staff type, kept as the SIS
codes them, refused with a sentence when they cannot be right."""

from __future__ import annotations

from datetime import date

import pytest

from admin.errors import Refused
from admin.student_details import clean_birth_date, clean_grade, clean_school

TODAY = date(2026, 11, 29)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("3", "03"),  # a plain number
        ("03", "03"),  # as the SIS codes it
        ("Grade 12", "12"),  # with the word
        ("k", "KG"),  # kindergarten, any case
        ("KG", "KG"),
        ("PK", "PK"),  # pre-kindergarten
        ("TK", "PK"),  # transitional kindergarten is the year before kindergarten
        ("", None),  # not known
        (None, None),
    ],
)
def test_a_grade_is_kept_as_the_sis_codes_it(typed: str | None, kept: str | None) -> None:
    assert clean_grade(typed) == kept


@pytest.mark.parametrize("typed", ["13", "sophomore", "-1", "1st"])
def test_a_grade_no_ale_student_is_in_is_refused(typed: str) -> None:
    with pytest.raises(Refused) as refused:
        clean_grade(typed)
    assert refused.value.code == "invalid_grade"


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("2017-03-14", date(2017, 3, 14)),  # as a date field sends it
        (" 2017-03-14 ", date(2017, 3, 14)),
        (date(2017, 3, 14), date(2017, 3, 14)),  # as the API's schema reads it
        ("", None),
        (None, None),
    ],
)
def test_a_birth_date_is_read_from_a_date_field(typed: str | date | None, kept: date | None) -> None:
    assert clean_birth_date(typed, TODAY) == kept


@pytest.mark.parametrize("typed", ["14/03/2017", "2017-02-30", "2026-11-30", "1990-01-01"])
def test_a_birth_date_that_cannot_be_right_is_refused(typed: str) -> None:
    # day first, no such day, tomorrow, older than any ALE student
    with pytest.raises(Refused) as refused:
        clean_birth_date(typed, TODAY)
    assert refused.value.code == "invalid_birth_date"


def test_a_school_must_be_one_of_the_districts() -> None:
    schools = {"sch-1": "Maple Elementary"}
    assert clean_school(" sch-1 ", schools) == "sch-1"
    assert clean_school("", schools) is None
    with pytest.raises(Refused) as refused:
        clean_school("sch-9", schools)
    assert refused.value.code == "unknown_school"
