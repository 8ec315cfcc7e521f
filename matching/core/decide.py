"""The matching contract as data: one created record and its candidates in, one decision out.

The rules run in the order of the design's table; the first that applies decides. A wrong link
moves one child's learning plan onto another child's record, so every doubt becomes a hold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from matching.core.names import name_similarity
from matching.core.records import CreatedRecord, SisCandidate
from matching.core.typos import is_one_typo_away

IDS_DISAGREE: Final = "ids_disagree"
NAME_MISMATCH: Final = "name_mismatch"
AMBIGUOUS_OTHER_ID: Final = "ambiguous_other_id"
POSSIBLE_SSID_TYPO: Final = "possible_ssid_typo"

HoldReason = Literal["ids_disagree", "name_mismatch", "ambiguous_other_id"]
Method = Literal["ssid", "other_id"]


@dataclass(frozen=True)
class Thresholds:
    """Name corroboration needed to auto-link; below `mismatch` the names clearly disagree."""

    link: float = 0.85
    mismatch: float = 0.60


@dataclass(frozen=True)
class Link:
    sis_record_id: int
    method: Method
    name_score: float = 1.0


@dataclass(frozen=True)
class Hold:
    reason: HoldReason
    candidate_id: int | None
    candidate_ids: tuple[int, ...] = ()
    name_score: float | None = None


@dataclass(frozen=True)
class Suggestion:
    sis_record_id: int
    kind: str = POSSIBLE_SSID_TYPO
    name_score: float = 1.0


@dataclass(frozen=True)
class Wait:
    suggestion: Suggestion | None = None


Decision = Link | Hold | Wait


@dataclass(frozen=True)
class _Facts:
    """What the candidates say about one created record, worked out once for all rules."""

    created: CreatedRecord
    by_ssid: SisCandidate | None
    by_other_id: tuple[SisCandidate, ...]
    typo_hits: tuple[SisCandidate, ...]
    thresholds: Thresholds
    dismissed: frozenset[int] = field(default_factory=frozenset)


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a == b


def _contradicts(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a != b


def _facts(
    created: CreatedRecord,
    candidates: Sequence[SisCandidate],
    thresholds: Thresholds,
    dismissed: frozenset[int],
) -> _Facts:
    mine = [c for c in candidates if c.district_id == created.district_id]  # never across districts
    by_ssid = [c for c in mine if _same(c.ssid, created.ssid)]
    by_other = tuple(c for c in mine if _same(c.other_id, created.other_id))
    typos = tuple(
        c for c in mine if created.ssid and c.ssid and not by_ssid and is_one_typo_away(created.ssid, c.ssid)
    )
    return _Facts(created, by_ssid[0] if by_ssid else None, by_other, typos, thresholds, dismissed)


def _ids_point_apart(facts: _Facts) -> Decision | None:
    """SSID and Other ID name different SIS records."""
    hit, others = facts.by_ssid, facts.by_other_id
    if hit is not None and others and hit not in others:
        return Hold(IDS_DISAGREE, hit.id, tuple(sorted({hit.id, *(c.id for c in others)})))
    return None


def _ambiguous_other_id(facts: _Facts) -> Decision | None:
    """No SSID hit, and the district's Other ID is carried by several SIS records."""
    if facts.by_ssid is None and len(facts.by_other_id) > 1:
        return Hold(AMBIGUOUS_OTHER_ID, None, tuple(sorted(c.id for c in facts.by_other_id)))
    return None


def _matched(facts: _Facts) -> tuple[SisCandidate, Method] | None:
    if facts.by_ssid is not None:
        return facts.by_ssid, "ssid"
    if len(facts.by_other_id) == 1:
        return facts.by_other_id[0], "other_id"
    return None


def _matched_record_contradicts(facts: _Facts) -> Decision | None:
    """The matched record carries a different value for the created record's other id."""
    matched = _matched(facts)
    if matched is None:
        return None
    record, method = matched
    mine, theirs = (
        (facts.created.other_id, record.other_id) if method == "ssid" else (facts.created.ssid, record.ssid)
    )
    return Hold(IDS_DISAGREE, record.id, (record.id,)) if _contradicts(mine, theirs) else None


def _names_decide(facts: _Facts) -> Decision | None:
    """One record matched by id: link when the names corroborate, otherwise hold for a person."""
    matched = _matched(facts)
    if matched is None:
        return None
    record, method = matched
    score = name_similarity(facts.created.name, record.name).score
    if score >= facts.thresholds.link:
        return Link(record.id, method, score)
    return Hold(NAME_MISMATCH, record.id, (record.id,), score)


def _possible_ssid_typo(facts: _Facts) -> Decision | None:
    """No match at all, but a same-named record's SSID is one mistyped or swapped digit away."""
    scored = [
        (name_similarity(facts.created.name, c.name).score, c.id)
        for c in facts.typo_hits
        if c.id not in facts.dismissed
    ]
    good = sorted((s for s in scored if s[0] >= facts.thresholds.link), reverse=True)
    if not good:
        return None
    score, sis_record_id = good[0]
    return Wait(Suggestion(sis_record_id, POSSIBLE_SSID_TYPO, score))


RULES: tuple[Callable[[_Facts], Decision | None], ...] = (
    _ids_point_apart,
    _ambiguous_other_id,
    _matched_record_contradicts,
    _names_decide,
    _possible_ssid_typo,
)


def decide(
    created: CreatedRecord,
    candidates: Sequence[SisCandidate],
    thresholds: Thresholds | None = None,
    dismissed: frozenset[int] = frozenset(),
) -> Decision:
    """The decision for one created record; `candidates` are active SIS records of its district."""
    facts = _facts(created, candidates, thresholds or Thresholds(), dismissed)
    for rule in RULES:
        decision = rule(facts)
        if decision is not None:
            return decision
    return Wait()
