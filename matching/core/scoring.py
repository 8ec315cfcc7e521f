"""Ranking for "search by name": name similarity first, then birth date, grade and school when
both records know them; every score comes with the reasons that made it."""

from __future__ import annotations

from dataclasses import dataclass

from matching.core.names import name_similarity
from matching.core.records import CreatedRecord, SisCandidate

NAME_WEIGHT = 0.75
# each extra fact: full weight when equal, none when different, half when either record lacks it
EXTRA_WEIGHTS = {"birth date": 0.15, "grade": 0.05, "school": 0.05}


@dataclass(frozen=True)
class Ranked:
    sis_record_id: int
    score: float
    reasons: tuple[str, ...]


def _extra(label: str, mine: object, theirs: object) -> tuple[float, str | None]:
    if mine is None or theirs is None:
        return 0.5, None
    return (1.0, f"{label} matches") if mine == theirs else (0.0, f"{label} differs")


def rank(created: CreatedRecord, candidate: SisCandidate) -> Ranked:
    """How likely the SIS record is the created record's child (0..1), and why."""
    name = name_similarity(created.name, candidate.name)
    score = NAME_WEIGHT * name.score
    reasons = list(name.reasons)
    facts = {
        "birth date": (created.birth_date, candidate.birth_date),
        "grade": (created.grade, candidate.grade),
        "school": (created.school_id, candidate.school_id),
    }
    for label, (mine, theirs) in facts.items():
        part, why = _extra(label, mine, theirs)
        score += EXTRA_WEIGHTS[label] * part
        if why:
            reasons.append(why)
    return Ranked(candidate.id, round(score, 4), tuple(reasons))
