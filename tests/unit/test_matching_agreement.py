"""Agreement field by field (equal, close, different, missing) and whether a pair staff are about
to link is corroborated by the evidence, row by row."""

from __future__ import annotations

from datetime import date

import pytest

from matching.core.agreement import Agreement, agreement_of, corroborate, field_agreements
from matching.core.compare import Level
from matching.core.evidence import weigh
from matching.core.records import CreatedRecord, PersonName, SisCandidate

LINK = 13.0
BORN = date(2017, 3, 14)


def created(first: str, last: str, **facts: object) -> CreatedRecord:
    return CreatedRecord(1, "d1", PersonName(first, last), **facts)  # type: ignore[arg-type]


def sis(first: str, last: str, **facts: object) -> SisCandidate:
    return SisCandidate(2, "d1", PersonName(first, last), **facts)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("level", "word"),
    [
        (Level.EQUAL, Agreement.EQUAL),
        (Level.NICKNAME, Agreement.CLOSE),  # Bill for William
        (Level.ONE_EDIT, Agreement.CLOSE),  # a slip
        (Level.SAME_SOUND, Agreement.CLOSE),  # Kathryn, Catherine
        (Level.CLOSE, Agreement.CLOSE),  # a birth date with day and month swapped
        (Level.ONE_APART, Agreement.CLOSE),  # the next grade
        (Level.ONE_TYPO, Agreement.CLOSE),  # an SSID one digit off
        (Level.INITIAL, Agreement.DIFFERENT),  # an initial says little about the name
        (Level.YEAR, Agreement.DIFFERENT),  # a birth date sharing only the year
        (Level.DIFFERENT, Agreement.DIFFERENT),
        (Level.MISSING, Agreement.MISSING),
    ],
)
def test_each_level_reads_as_one_of_four_words(level: Level, word: Agreement) -> None:
    assert agreement_of(level) is word


def test_identical_names_are_told_apart_by_the_birth_date_typed() -> None:
    typed = created("Gus", "Haddad", birth_date=BORN, grade="3")
    right = field_agreements(weigh(typed, sis("Gus", "Haddad", birth_date=BORN, grade="03")))
    other = field_agreements(weigh(typed, sis("Gus", "Haddad", birth_date=date(2015, 9, 1), grade="5")))
    assert [(f.field, f.agreement) for f in right][:4] == [
        ("given name", Agreement.EQUAL),
        ("family name", Agreement.EQUAL),
        ("birth date", Agreement.EQUAL),
        ("grade", Agreement.EQUAL),
    ]
    assert [(f.field, f.agreement) for f in other][2:4] == [
        ("birth date", Agreement.DIFFERENT),
        ("grade", Agreement.DIFFERENT),
    ]
    assert [f.agreement for f in right][4:] == [Agreement.MISSING] * 3  # school, SSID, Other ID


@pytest.mark.parametrize(
    ("typed", "actual", "corroborated", "rule", "disagreeing"),
    [
        # the same child, names exact: nothing to confirm twice
        (created("Olivia", "Brown"), sis("Olivia", "Brown"), True, "", ()),
        # a slip in each name and nothing else: close, nothing disagrees
        (created("Mihcael", "Gren"), sis("Michael", "Green"), True, "", ()),
        # Nguyen Lee's SSID typed for Jose Okafor: both names disagree, the id cannot outweigh them
        (
            created("Jose", "Okafor", ssid="0123456789"),
            sis("Nguyen", "Lee", ssid="0123456789"),
            False,
            "fields_disagree",
            ("given name", "family name"),
        ),
        # a twin's SSID (same family, a name of its own): held by the automatic rules, so here too
        (
            created("Noah", "Patel", ssid="0123456789"),
            sis("Liam", "Patel", ssid="0123456789"),
            False,
            "sibling_shape",
            ("given name",),
        ),
        # a changed family name without a birth date typed
        (created("Maya", "Lopez"), sis("Maya", "Chen"), False, "surname_change", ("family name",)),
        # ... and with the birth date typed and equal: the automatic rules would link it
        (
            created("Maya", "Lopez", birth_date=BORN, ssid="0123456789"),
            sis("Maya", "Chen", birth_date=BORN, ssid="0123456789"),
            True,
            "",
            (),
        ),
        # names exact, another birth date and grade: a namesake, not the child
        (
            created("Gus", "Haddad", birth_date=BORN, grade="3"),
            sis("Gus", "Haddad", birth_date=date(2012, 1, 2), grade="8"),
            False,
            "fields_disagree",
            ("birth date", "grade"),
        ),
        # names and SSID exact, another school (the child moved): the sum outweighs the school
        (
            created("Ana", "Reyes", school_id="sch-1", ssid="0123456789"),
            sis("Ana", "Reyes", school_id="sch-2", ssid="0123456789"),
            True,
            "",
            (),
        ),
    ],
)
def test_a_pair_is_corroborated_when_the_automatic_rules_would_stand_behind_it(
    typed: CreatedRecord,
    actual: SisCandidate,
    corroborated: bool,
    rule: str,
    disagreeing: tuple[str, ...],
) -> None:
    said = corroborate(weigh(typed, actual), LINK)
    assert (said.corroborated, said.rule, said.disagreeing) == (corroborated, rule, disagreeing)
