"""The evidence model: how strongly a created record and an SIS record say "the same child", in bits.

In the manner of Fellegi and Sunter (as splink, HAPI FHIR MDM and Master Patient Index systems
do it): each field is compared into a level (matching/core/compare.py) and each level carries
the weight log2(m / u), where m is how often the level is seen when the two records are the
same child and u how often when they are two different children of the district. Weights
add; a positive sum is evidence for the same child, a negative one against. An agreeing name
weighs by how common it is in the district (the term-frequency adjustment): a shared "Smith"
is weaker evidence than a shared "Wojciechowski". An exact SSID is strong evidence but not
proof: a mistyped or mixed-up id can hit a sibling, and then the names outweigh it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Literal

from matching.core.compare import (
    Level,
    NameComparison,
    compare_birth_date,
    compare_exact,
    compare_family,
    compare_given,
    compare_grade,
    compare_ssid,
)
from matching.core.records import PersonName, StudentFacts
from matching.core.search_keys import name_key

GIVEN, FAMILY, BIRTH, GRADE, SCHOOL, SSID, OTHER_ID = (
    "given name", "family name", "birth date", "grade", "school", "SSID", "Other ID",
)  # fmt: skip


@dataclass(frozen=True)
class Chance:
    """m: share of same-child pairs at this level; u: share of different-children pairs."""

    m: float
    u: float

    @cached_property
    def weight(self) -> float:
        return math.log2(self.m / self.u)


# m and u per field and level. m from how staff mistype (keyboard slips are a few in a hundred
# names; ids are typed right nineteen times in twenty); u from how values spread over a
# district's students (a birth date is shared by about one child in 4,000, a grade by one in
# 13, a school by one in 20). Checked against bench/linkage_quality.py (docs/matching.md).
WEIGHTS: dict[str, dict[Level, Chance]] = {
    GIVEN: {
        Level.EQUAL: Chance(0.90, 0.01),  # u replaced by the name's own share in the district
        Level.NICKNAME: Chance(0.03, 0.002),
        Level.ONE_EDIT: Chance(0.04, 0.003),
        Level.TWO_EDITS: Chance(0.012, 0.004),
        Level.SAME_SOUND: Chance(0.006, 0.004),
        Level.INITIAL: Chance(0.004, 0.06),
        Level.DIFFERENT: Chance(0.006, 0.91),
    },
    FAMILY: {
        Level.EQUAL: Chance(0.90, 0.005),  # u replaced by the name's own share in the district
        Level.PART: Chance(0.02, 0.001),
        Level.ONE_EDIT: Chance(0.04, 0.002),
        Level.TWO_EDITS: Chance(0.012, 0.003),
        Level.SAME_SOUND: Chance(0.006, 0.004),
        Level.INITIAL: Chance(0.002, 0.05),
        Level.DIFFERENT: Chance(0.02, 0.93),  # a family name can change (adoption, marriage of a parent)
    },
    BIRTH: {
        Level.EQUAL: Chance(0.93, 0.00025),
        Level.CLOSE: Chance(0.04, 0.002),
        Level.YEAR: Chance(0.01, 0.07),
        Level.DIFFERENT: Chance(0.02, 0.93),
    },
    GRADE: {
        Level.EQUAL: Chance(0.85, 0.08),
        Level.ONE_APART: Chance(0.12, 0.14),  # a record made before the SIS moved the child up
        Level.DIFFERENT: Chance(0.03, 0.78),
    },
    SCHOOL: {Level.EQUAL: Chance(0.85, 0.05), Level.DIFFERENT: Chance(0.15, 0.95)},
    SSID: {
        Level.EQUAL: Chance(0.90, 0.001),  # u: another child's id typed or copied by mistake
        Level.ONE_TYPO: Chance(0.04, 0.001),
        Level.TWO_DIGITS: Chance(0.01, 0.001),
        Level.DIFFERENT: Chance(0.05, 0.998),
    },
    OTHER_ID: {Level.EQUAL: Chance(0.90, 0.003), Level.DIFFERENT: Chance(0.05, 0.997)},
}
NAME_ORDER_SWAPPED = -1.0  # bits: given and family typed the other way round
RARE_NAME_SHARE = 1 / 2000  # a name this rare or rarer in the district weighs as this rare
COMMON_NAME_SHARE = 1 / 50  # ... and this common or commoner as this common (a small district's
# shares say little: in a district of three records every name is carried by a third of them)
PRIOR_BITS = 12.0  # for the 0..1 score staff see: about one in 4,000 pairs is the child


@dataclass(frozen=True)
class NameFrequencies:
    """How many of the district's active SIS records carry each given and family name key."""

    records: int = 0
    given: Mapping[str, int] = field(default_factory=dict)
    family: Mapping[str, int] = field(default_factory=dict)

    def share(self, part: Literal["given", "family"], key: str) -> float | None:
        count = (self.given if part == "given" else self.family).get(key, 0)
        return count / self.records if count and self.records else None


NO_FREQUENCIES = NameFrequencies()


@dataclass(frozen=True)
class FieldEvidence:
    field: str
    level: Level
    weight: float

    @property
    def reason(self) -> str:
        return f"{self.field}: {self.level} ({self.weight:+.1f})"


@dataclass(frozen=True)
class Evidence:
    """Every field's level and weight; the match weight is their sum."""

    fields: tuple[FieldEvidence, ...]
    given: NameComparison
    family: NameComparison
    swapped: bool = False
    weight: float = field(init=False, compare=False)  # the match weight, summed once when made

    def __post_init__(self) -> None:
        total = sum(f.weight for f in self.fields) + (NAME_ORDER_SWAPPED if self.swapped else 0.0)
        object.__setattr__(self, "weight", total)

    @property
    def names_weight(self) -> float:
        names = sum(f.weight for f in self.fields if f.field in (GIVEN, FAMILY))
        return names + (NAME_ORDER_SWAPPED if self.swapped else 0.0)

    def level(self, name: str) -> Level:
        return next((f.level for f in self.fields if f.field == name), Level.MISSING)

    @property
    def reasons(self) -> tuple[str, ...]:
        """The explanation staff see, one line per field that said something; no values, no PII."""
        said = tuple(f.reason for f in self.fields if f.level is not Level.MISSING)
        return (f"given and family name swapped ({NAME_ORDER_SWAPPED:+.1f})", *said) if self.swapped else said


def _name_field(part: Literal["given", "family"], level: Level, share: float | None) -> FieldEvidence:
    """A name's level with its weight: an equal name weighs by its share of the district."""
    name = GIVEN if part == "given" else FAMILY
    if level is not Level.EQUAL or share is None:
        return _weighed(name, level)
    return _equal_name(name, min(max(share, RARE_NAME_SHARE), COMMON_NAME_SHARE))


@lru_cache(maxsize=16_384)
def _equal_name(name: str, share: float) -> FieldEvidence:
    """An agreeing name as common as `share`; one shared instance per share (a district has a few
    hundred distinct name counts)."""
    return FieldEvidence(name, Level.EQUAL, math.log2(WEIGHTS[name][Level.EQUAL].m / share))


def _names(
    typed: PersonName, actual: PersonName, frequencies: NameFrequencies, swapped: bool
) -> tuple[FieldEvidence, FieldEvidence, NameComparison, NameComparison]:
    first, last = (typed.last, typed.first) if swapped else (typed.first, typed.last)
    given = compare_given(first, actual.first, actual.middle, frequencies.given)
    family = compare_family(last, actual.last)
    given_share = frequencies.share("given", name_key(actual.first))
    family_share = frequencies.share("family", name_key(actual.last))
    return (
        _name_field("given", given.level, given_share),
        _name_field("family", family.level, family_share),
        given,
        family,
    )


_WEAK = (Level.SAME_SOUND, Level.INITIAL, Level.DIFFERENT, Level.MISSING)


def _sum(names: tuple[FieldEvidence, FieldEvidence, NameComparison, NameComparison]) -> float:
    return names[0].weight + names[1].weight


@lru_cache(maxsize=256)
def _weighed(name: str, level: Level) -> FieldEvidence:
    """A field's level with its weight; one shared instance per field and level."""
    chance = WEIGHTS[name].get(level)
    return FieldEvidence(name, level, chance.weight if chance else 0.0)


NamesMemo = dict[PersonName, tuple[FieldEvidence, FieldEvidence, NameComparison, NameComparison, bool]]


def _name_evidence(
    created: StudentFacts, actual: PersonName, frequencies: NameFrequencies
) -> tuple[FieldEvidence, FieldEvidence, NameComparison, NameComparison, bool]:
    straight = _names(created.name, actual, frequencies, swapped=False)
    if straight[2].level in _WEAK or straight[3].level in _WEAK:  # else swapping cannot do better
        swapped = _names(created.name, actual, frequencies, swapped=True)
        if _sum(swapped) + NAME_ORDER_SWAPPED > _sum(straight):
            return (*swapped, True)
    return (*straight, False)


def weigh(
    created: StudentFacts,
    candidate: StudentFacts,
    frequencies: NameFrequencies = NO_FREQUENCIES,
    memo: NamesMemo | None = None,
) -> Evidence:
    """The evidence that `candidate` is the created record's child, field by field. `memo` keeps the
    name comparisons of one created record against the names already seen (namesakes share them)."""
    names = memo.get(candidate.name) if memo is not None else None
    if names is None:
        names = _name_evidence(created, candidate.name, frequencies)
        if memo is not None:
            memo[candidate.name] = names
    given, family, given_cmp, family_cmp, is_swapped = names
    others = (
        _weighed(BIRTH, compare_birth_date(created.birth_date, candidate.birth_date)),
        _weighed(GRADE, compare_grade(created.grade, candidate.grade)),
        _weighed(SCHOOL, compare_exact(created.school_id, candidate.school_id)),
        _weighed(SSID, compare_ssid(created.ssid, candidate.ssid)),
        _weighed(OTHER_ID, compare_exact(created.other_id, candidate.other_id)),
    )
    return Evidence((given, family, *others), given_cmp, family_cmp, is_swapped)


def match_probability(weight: float) -> float:
    """The 0..1 score shown to staff: the weight against a prior of one pair in 2**PRIOR_BITS."""
    return float(1.0 / (1.0 + 2.0 ** (PRIOR_BITS - weight)))
