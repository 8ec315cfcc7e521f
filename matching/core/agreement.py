"""Field-by-field agreement as staff read it, and whether the evidence corroborates a pair.

Every field's level (matching/core/compare.py) falls in one of four words staff can scan down a
column: equal, close (a nickname, a slip, a birth date with a swapped digit, the next grade),
different, missing. A pair that staff link by hand is *corroborated* when the automatic rules
would stand behind it: no sibling shape, no surname change without an equal birth date, and no
field that disagrees unless the summed evidence clears the link threshold all the same. A
pair that is not needs a second, explicit confirmation, and its link is audited as one made
against the evidence.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from matching.core.compare import Level
from matching.core.decide import is_sibling_shape, is_surname_change
from matching.core.evidence import BIRTH, FAMILY, GIVEN, Evidence


class Agreement(enum.StrEnum):
    EQUAL = "equal"
    CLOSE = "close"
    DIFFERENT = "different"
    MISSING = "missing"


_CLOSE = frozenset(
    {
        Level.NICKNAME,
        Level.PART,
        Level.ONE_EDIT,
        Level.TWO_EDITS,
        Level.SAME_SOUND,
        Level.CLOSE,
        Level.ONE_APART,
        Level.ONE_TYPO,
        Level.TWO_DIGITS,
    }
)
# an initial is not a spelling of the name, and a shared birth year is shared by a whole grade
_DIFFERENT = frozenset({Level.DIFFERENT, Level.INITIAL, Level.YEAR})


def agreement_of(level: Level) -> Agreement:
    """The word staff see for a field's level."""
    if level is Level.EQUAL:
        return Agreement.EQUAL
    if level is Level.MISSING:
        return Agreement.MISSING
    return Agreement.CLOSE if level in _CLOSE else Agreement.DIFFERENT


@dataclass(frozen=True)
class FieldAgreement:
    field: str  # "given name", "birth date", "SSID", ...
    agreement: Agreement
    level: Level  # the finer level ("one edit", "day and month swapped" is "close")
    weight: float


@dataclass(frozen=True)
class Corroboration:
    """What the evidence says about one pair staff are about to link."""

    fields: tuple[FieldAgreement, ...]
    weight: float
    corroborated: bool
    rule: str  # why not: sibling_shape, surname_change or fields_disagree; "" when corroborated
    disagreeing: tuple[str, ...] = ()  # the fields that speak against the pair, in field order


def field_agreements(evidence: Evidence) -> tuple[FieldAgreement, ...]:
    return tuple(FieldAgreement(f.field, agreement_of(f.level), f.level, f.weight) for f in evidence.fields)


def _disagreeing(evidence: Evidence, fields: tuple[FieldAgreement, ...], sibling: bool) -> tuple[str, ...]:
    """Fields at `different`, and the given name of a sibling shape (Erin beside Eric is close in
    spelling but another child's name)."""
    named = {f.field for f in fields if f.agreement is Agreement.DIFFERENT}
    if sibling:
        named.add(GIVEN)
    return tuple(f.field for f in fields if f.field in named)


def corroborate(evidence: Evidence, link_threshold: float) -> Corroboration:
    """Whether the automatic rules would stand behind this pair, and which fields say otherwise."""
    fields = field_agreements(evidence)
    sibling = is_sibling_shape(evidence)
    disagreeing = _disagreeing(evidence, fields, sibling)
    weight = round(evidence.weight, 6)
    rule = ""
    if sibling:
        rule = "sibling_shape"
    elif is_surname_change(evidence) and evidence.level(BIRTH) is not Level.EQUAL:
        rule = "surname_change"
    elif disagreeing and weight < link_threshold:
        rule = "fields_disagree"
    if rule == "surname_change" and FAMILY not in disagreeing:
        disagreeing = (*disagreeing, FAMILY)
    return Corroboration(fields, weight, rule == "", rule, disagreeing if rule else ())
