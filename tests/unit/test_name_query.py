"""How a typed name becomes readings: which words make the surname, which begin the given name."""

from __future__ import annotations

import pytest

from admin.name_query import Lead, Order, Reading, any_reading_condition, reading_condition, readings, words


def surnames(query: str) -> set[str]:
    return {last for r in readings(query) if r.order is Order.SURNAME for last in r.lasts}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("st john", "stjohn"),  # a run of words joined
        ("St. John", "stjohn"),  # punctuation splits, then joins
        ("saint john", "stjohn"),  # Saint and St. are one
        ("de los santos", "delossantos"),
        ("de los santos", "santos"),  # the particles left out
        ("santos", "delossantos"),  # ... or put in (a surname typed alone)
        ("o'brien", "obrien"),  # an apostrophe joins
        ("brien", "obrien"),
        ("Nguyễn", "nguyen"),  # accents folded as the keys are
    ],
)
def test_a_surname_is_read_with_and_without_its_particles_and_punctuation(query: str, expected: str) -> None:
    assert expected in surnames(query)


def test_a_word_alone_may_be_a_given_name_and_the_others_narrow_it() -> None:
    assert Reading(Order.GIVEN, ("",), "ava") in readings("ava")
    assert Reading(Order.SURNAME, ("nguyen",), "ava", Lead.IS) in readings("ava nguyen")
    assert Reading(Order.SURNAME, ("nguyen",), "ava", Lead.IS) in readings("nguyen, ava")


def test_a_surname_typed_with_a_given_name_is_read_as_itself_and_as_the_longer_surnames() -> None:
    found = [r for r in readings("garcia a") if r.lasts == ("garcia",)]
    assert sorted(r.lead for r in found) == [Lead.IS, Lead.LONGER]
    assert "s.search_last = 'garcia'" in reading_condition(found[0])


def test_a_lone_initial_never_stands_for_the_surname_of_a_longer_query() -> None:
    assert "a" not in surnames("garcia a")
    assert Reading(Order.SURNAME, ("garcia",), "a", Lead.IS) in readings("garcia a")


def test_a_query_without_letters_has_no_reading_and_matches_nothing() -> None:
    assert (words(" , . "), readings(" , . "), any_reading_condition("--")) == ([], [], "FALSE")


def test_the_sql_holds_only_plain_letters_whatever_is_typed() -> None:
    condition = any_reading_condition("O'Brien'); DROP TABLE students; --")
    assert ";" not in condition
    assert "DROP" not in condition
