"""Ranking for "search by name": candidates ordered by their summed evidence, ties said out loud.

Identical names give identical evidence; when the created record lacks the very field that
would tell the tied records apart (a birth date, a grade, a school), the ranking says so, so
staff type it instead of picking blind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from matching.core.evidence import (
    BIRTH,
    GRADE,
    NO_FREQUENCIES,
    SCHOOL,
    Evidence,
    NameFrequencies,
    NamesMemo,
    match_probability,
    weigh,
)
from matching.core.records import CreatedRecord, SisCandidate

_SEPARATING = ((BIRTH, "birth_date"), (GRADE, "grade"), (SCHOOL, "school_id"))


@dataclass(frozen=True)
class Ranked:
    sis_record_id: int
    weight: float
    score: float  # 0..1, for people: the weight against a prior (matching/core/evidence.py)
    reasons: tuple[str, ...]
    agreement: dict[str, str]  # field -> level ("equal", "one edit", "different", "missing", ...)
    tied: bool = False
    separating_fields: tuple[str, ...] = ()  # fields that would tell the tied records apart


def _ranked(candidate: SisCandidate, evidence: Evidence) -> Ranked:
    weight = round(evidence.weight, 6)
    agreement = {f.field: str(f.level) for f in evidence.fields}
    return Ranked(candidate.id, weight, round(match_probability(weight), 4), evidence.reasons, agreement)


def _separating(created: CreatedRecord, tied: Sequence[SisCandidate]) -> tuple[str, ...]:
    """Fields the tied records differ in that the created record does not carry."""
    return tuple(
        label
        for label, attribute in _SEPARATING
        if getattr(created, attribute) is None and len({getattr(c, attribute) for c in tied}) > 1
    )


def rank(
    created: CreatedRecord,
    candidates: Sequence[SisCandidate],
    frequencies: NameFrequencies = NO_FREQUENCIES,
    limit: int = 20,
) -> list[Ranked]:
    """The candidates most like the created record, best first; equal weights keep id order. Every
    candidate is weighed; only the `limit` shown get their reasons written out."""
    memo: NamesMemo = {}
    weighed = sorted(
        ((weigh(created, c, frequencies, memo), c) for c in candidates),
        key=lambda pair: (-round(pair[0].weight, 6), pair[1].id),
    )
    by_weight: dict[float, list[SisCandidate]] = {}
    for evidence, candidate in weighed:
        by_weight.setdefault(round(evidence.weight, 6), []).append(candidate)
    shown = [_ranked(candidate, evidence) for evidence, candidate in weighed[:limit]]
    return [
        replace(ranked, tied=True, separating_fields=_separating(created, tied))
        if len(tied := by_weight[ranked.weight]) > 1
        else ranked
        for ranked in shown
    ]
