"""The evidence model row by row: each field's levels, the weights they carry, and the sum."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from matching.core.compare import (
    Level,
    compare_birth_date,
    compare_family,
    compare_given,
    compare_grade,
    compare_ssid,
    spelling,
)
from matching.core.evidence import WEIGHTS, NameFrequencies, match_probability, weigh
from matching.core.ranking import rank
from matching.core.records import COLUMNS, CreatedRecord, PersonName, SisCandidate


@pytest.mark.parametrize(
    ("typed", "actual", "level"),
    [
        ("jose", "José", Level.EQUAL),  # equal after folding case and accents
        ("Mary Ann", "Mary", Level.EQUAL),  # a middle name typed into the given name
        ("Bill", "William", Level.NICKNAME),  # a listed nickname
        ("Mihcael", "Michael", Level.ONE_EDIT),  # two neighbours swapped
        ("Ownen", "Owen", Level.ONE_EDIT),  # a letter too many
        ("Kathrine", "Katherine", Level.ONE_EDIT),  # a letter missing
        ("Samamtah", "Samantha", Level.TWO_EDITS),  # two slips in a long name
        ("Kathryn", "Catherine", Level.SAME_SOUND),  # spelt apart, sounded alike
        ("J", "Jacob", Level.INITIAL),  # an initial only
        ("Ana", "Marcus", Level.DIFFERENT),  # another name
        ("Li", "Lu", Level.SAME_SOUND),  # names this short are never "one edit" apart, at most alike in sound
        ("Ελένη", "Eleni", Level.MISSING),  # no Latin letters: nothing to compare
    ],
)
def test_given_names_compare_into_the_listed_levels(typed: str, actual: str, level: Level) -> None:
    assert compare_given(typed, actual).level is level


def test_a_given_name_that_is_a_name_of_its_own_is_told_from_a_slip() -> None:
    assert compare_given("Erin", "Eric", known={"erin"}).distinct_names  # a sibling's name
    assert not compare_given("Mihcael", "Michael", known={"michael"}).distinct_names  # a slip
    assert not compare_given("Phillip", "Philip", known={"phillip"}).distinct_names  # one name, two spellings
    assert compare_given("Carly", "Carl").distinct_names  # related only through a third name


@pytest.mark.parametrize(
    ("typed", "actual", "level"),
    [
        ("de la Cruz", "Delacruz", Level.EQUAL),  # words joined
        ("Mac Kenzie", "MacKenzie", Level.EQUAL),  # split by a space
        ("Garcia", "García-López", Level.PART),  # one part of a compound
        ("Fnich", "Finch", Level.ONE_EDIT),  # a slip in the second letter
        ("Wojciehowski", "Wojciechowski", Level.ONE_EDIT),
        ("Pertsen", "Petersen", Level.TWO_EDITS),  # two slips, one of them a swap
        ("Okafor", "Reyes", Level.DIFFERENT),
    ],
)
def test_family_names_compare_into_the_listed_levels(typed: str, actual: str, level: Level) -> None:
    assert compare_family(typed, actual).level is level


@pytest.mark.parametrize(
    ("typed", "actual", "level"),
    [
        (date(2018, 4, 9), date(2018, 4, 9), Level.EQUAL),
        (date(2018, 4, 8), date(2018, 4, 9), Level.CLOSE),  # one digit
        (date(2018, 9, 4), date(2018, 4, 9), Level.CLOSE),  # day and month swapped
        (date(2018, 1, 20), date(2018, 4, 9), Level.YEAR),  # the year only
        (date(2015, 1, 20), date(2018, 4, 9), Level.DIFFERENT),
        (None, date(2018, 4, 9), Level.MISSING),
    ],
)
def test_birth_dates_compare_into_the_listed_levels(typed: date | None, actual: date, level: Level) -> None:
    assert compare_birth_date(typed, actual) is level


@pytest.mark.parametrize(
    ("typed", "actual", "level"),
    [
        ("K", "0", Level.EQUAL),
        ("03", "3", Level.EQUAL),
        ("2", "3", Level.ONE_APART),
        ("2", "9", Level.DIFFERENT),
    ],
)
def test_grades_compare_as_numbers(typed: str, actual: str, level: Level) -> None:
    assert compare_grade(typed, actual) is level


@pytest.mark.parametrize(
    ("typed", "level"),
    [
        ("0123456789", Level.EQUAL),
        ("0123456780", Level.ONE_TYPO),  # one digit
        ("0123456798", Level.ONE_TYPO),  # two neighbours swapped
        ("0123456700", Level.TWO_DIGITS),
        ("9876543210", Level.DIFFERENT),
    ],
)
def test_ssids_compare_by_the_slips_staff_make(typed: str, level: Level) -> None:
    assert compare_ssid(typed, "0123456789") is level


def test_each_level_weighs_log2_of_m_over_u_and_agreement_outweighs_disagreement() -> None:
    for levels in WEIGHTS.values():
        for level, chance in levels.items():
            if level is Level.EQUAL:
                assert chance.weight > 0
            if level is Level.DIFFERENT:
                assert chance.weight < 0


def test_the_sum_explains_itself_field_by_field_without_values() -> None:
    typed = CreatedRecord(
        1, "d", PersonName("Mihcael", "Green"), ssid="0123456789", birth_date=date(2018, 4, 9)
    )
    actual = SisCandidate(
        2, "d", PersonName("Michael", "Green"), ssid="0123456789", birth_date=date(2018, 4, 9)
    )
    evidence = weigh(typed, actual)
    assert evidence.weight == pytest.approx(sum(f.weight for f in evidence.fields))
    assert [r.split(" (")[0] for r in evidence.reasons] == [
        "given name: one edit", "family name: equal", "birth date: equal", "SSID: equal",
    ]  # fmt: skip
    assert not any(word in " ".join(evidence.reasons).lower() for word in ("michael", "green", "0123"))


def test_a_common_name_weighs_less_than_a_rare_one() -> None:
    frequencies = NameFrequencies(10_000, {}, {"smith": 300, "wojciechowski": 2})
    typed = CreatedRecord(1, "d", PersonName("Ana", "Smith"))
    smith = weigh(typed, SisCandidate(2, "d", PersonName("Ana", "Smith")), frequencies)
    rare = CreatedRecord(1, "d", PersonName("Ana", "Wojciechowski"))
    wojciechowski = weigh(rare, SisCandidate(2, "d", PersonName("Ana", "Wojciechowski")), frequencies)
    assert wojciechowski.weight > smith.weight + 5


def test_given_and_family_swapped_are_weighed_the_other_way_round() -> None:
    evidence = weigh(
        CreatedRecord(1, "d", PersonName("Pertsen", "Ingrid")),
        SisCandidate(2, "d", PersonName("Ingrid", "Petersen")),
    )
    assert evidence.swapped and evidence.weight > 5


def test_an_exact_given_name_and_a_slip_outrank_another_given_name_of_the_same_family() -> None:
    typed = CreatedRecord(1, "d", PersonName("Olivia", "Brwon"))
    ranked = rank(
        typed,
        [
            SisCandidate(2, "d", PersonName("Livia", "Brown")),
            SisCandidate(3, "d", PersonName("Olivia", "Brown")),
        ],
    )
    assert [r.sis_record_id for r in ranked] == [3, 2]


def test_identical_names_tie_and_the_ranking_names_the_field_that_would_separate_them() -> None:
    typed = CreatedRecord(1, "d", PersonName("Gus", "Haddad"))
    twins = [
        SisCandidate(i, "d", PersonName("Gus", "Haddad"), birth_date=date(2015 + i, 1, 1)) for i in (2, 3)
    ]
    first, second = rank(typed, twins)
    assert first.tied and second.tied and first.separating_fields == ("birth date",)
    dated = CreatedRecord(1, "d", PersonName("Gus", "Haddad"), birth_date=date(2018, 1, 1))
    best, other = rank(dated, twins)
    assert (best.sis_record_id, best.tied, other.tied) == (3, False, False)


def test_the_score_for_people_grows_with_the_weight_between_zero_and_one() -> None:
    scores = [match_probability(w) for w in (-20, 0, 12, 30)]
    assert scores == sorted(scores) and 0 < scores[0] < 0.001 and scores[2] == 0.5 and scores[3] > 0.999


def test_spellings_of_one_name_share_one_form() -> None:
    assert spelling("phillip") == spelling("philip") and spelling("niel") == spelling("neil")
    assert spelling("billie") == spelling("billy") and spelling("paula") != spelling("paul")


def test_a_record_read_by_position_equals_the_one_read_by_column_name() -> None:
    """The passes read rows by position in COLUMNS order, search and staff links by column name."""
    values = {
        "id": 7, "ssid": "0123456789", "other_id": "A-1", "first_name": "Ana", "middle_name": "Lucia",
        "last_name": "Ruiz", "birth_date": date(2016, 5, 4), "grade": "03", "school_id": "sch-1",
    }  # fmt: skip
    row = SimpleNamespace(**values)
    by_position = SisCandidate.from_columns("d", [values[column] for column in COLUMNS])
    assert by_position == SisCandidate.of("d", row)
    assert by_position == SisCandidate(
        7, "d", PersonName("Ana", "Ruiz", "Lucia"), "0123456789", "A-1", date(2016, 5, 4), "03", "sch-1"
    )
