"""The matching contract as data: one created record and its candidates in, one decision out.

The rules run in a stated order (RULES); the first that applies decides and names itself in the
decision's `rule`. Hard rules about ids and name shapes come first; then the summed evidence
(matching/core/evidence.py) decides whether an id match links. A wrong link moves one child's
learning plan onto another child's record, so every doubt becomes a hold or a suggestion.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from matching.core.compare import Level
from matching.core.evidence import BIRTH, NO_FREQUENCIES, SSID, Evidence, NameFrequencies, weigh
from matching.core.names import tokens
from matching.core.records import CreatedRecord, SisCandidate
from matching.core.vocabulary import HoldReason, LinkMethod, SuggestionKind


@dataclass(frozen=True)
class Thresholds:
    """Match weights in bits (config/settings.py holds the values and where they came from).

    link: an id match links at or above it. suggest: the names' own weight that makes an SSID
    one typo away worth suggesting. two_digit_ssid: the whole weight (names and birth date)
    that makes an SSID two digits away worth suggesting. possible_match and margin: a record
    without ids is suggested its best candidate when that one reaches `possible_match` and
    leads the next by `margin`.
    """

    link: float
    suggest: float
    two_digit_ssid: float
    possible_match: float
    margin: float
    # rule 5 holds a given name that agrees only as a nickname too, when other SIS records of the
    # district carry it as a name of their own (a twin Freddie beside Frederick)
    hold_nicknames: bool = True
    # ... except an id typed before the SIS sent its record, when no SIS record carries the typed names
    link_later_arrivals: bool = True


@dataclass(frozen=True)
class Link:
    sis_record_id: int
    method: LinkMethod
    weight: float = field(default=0.0, compare=False)
    rule: str = field(default="", compare=False)


@dataclass(frozen=True)
class Hold:
    reason: HoldReason
    candidate_id: int | None
    candidate_ids: tuple[int, ...] = ()
    weight: float | None = field(default=None, compare=False)
    rule: str = field(default="", compare=False)

    @property
    def name_score(self) -> float | None:
        """The match weight the hold was decided on (kept in the hold's detail)."""
        return None if self.weight is None else round(self.weight, 1)


@dataclass(frozen=True)
class Suggestion:
    sis_record_id: int
    kind: SuggestionKind = SuggestionKind.POSSIBLE_SSID_TYPO
    weight: float = field(default=0.0, compare=False)


@dataclass(frozen=True)
class Wait:
    suggestion: Suggestion | None = None
    rule: str = field(default="nothing_matched", compare=False)


Decision = Link | Hold | Wait


@dataclass(frozen=True)
class _Facts:
    """What the candidates say about one created record, worked out once for all rules."""

    created: CreatedRecord
    candidates: tuple[SisCandidate, ...]
    by_ssid: SisCandidate | None
    by_other_id: tuple[SisCandidate, ...]
    evidence: dict[int, Evidence]
    thresholds: Thresholds
    dismissed: frozenset[int]
    frequencies: NameFrequencies = NO_FREQUENCIES

    def matched(self) -> tuple[SisCandidate, LinkMethod] | None:
        if self.by_ssid is not None:
            return self.by_ssid, LinkMethod.SSID
        if len(self.by_other_id) == 1:
            return self.by_other_id[0], LinkMethod.OTHER_ID
        return None


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a == b


def _facts(
    created: CreatedRecord,
    candidates: Sequence[SisCandidate],
    thresholds: Thresholds,
    dismissed: frozenset[int],
    frequencies: NameFrequencies,
) -> _Facts:
    # never across districts; one entry per record however many ways it was found
    mine = tuple({c.id: c for c in candidates if c.district_id == created.district_id}.values())
    by_ssid = [c for c in mine if _same(c.ssid, created.ssid)]
    by_other = tuple(c for c in mine if _same(c.other_id, created.other_id))
    evidence = {c.id: weigh(created, c, frequencies) for c in mine}
    first_ssid = by_ssid[0] if by_ssid else None
    return _Facts(created, mine, first_ssid, by_other, evidence, thresholds, dismissed, frequencies)


Rule = Callable[[_Facts], Decision | None]


def _ids_point_apart(facts: _Facts) -> Decision | None:
    """SSID and Other ID name different SIS records."""
    hit, others = facts.by_ssid, facts.by_other_id
    if hit is not None and others and hit not in others:
        return Hold(HoldReason.IDS_DISAGREE, hit.id, tuple(sorted({hit.id, *(c.id for c in others)})))
    return None


def _ambiguous_other_id(facts: _Facts) -> Decision | None:
    """No SSID hit, and the district's Other ID is carried by several SIS records."""
    if facts.by_ssid is None and len(facts.by_other_id) > 1:
        return Hold(HoldReason.AMBIGUOUS_OTHER_ID, None, tuple(sorted(c.id for c in facts.by_other_id)))
    return None


def _matched_record_contradicts(facts: _Facts) -> Decision | None:
    """The matched record carries a different value for the created record's other id."""
    matched = facts.matched()
    if matched is None:
        return None
    record, method = matched
    mine, theirs = (
        (facts.created.other_id, record.other_id)
        if method == LinkMethod.SSID
        else (facts.created.ssid, record.ssid)
    )
    if mine is not None and theirs is not None and mine != theirs:
        return Hold(HoldReason.IDS_DISAGREE, record.id, (record.id,), facts.evidence[record.id].weight)
    return None


# a given name that is no nickname or slip of the other one
_NOT_THE_SAME_GIVEN_NAME = (Level.SAME_SOUND, Level.INITIAL, Level.DIFFERENT)
_SAME_FAMILY = (Level.EQUAL, Level.PART, Level.ONE_EDIT, Level.TWO_EDITS)
_OTHER_FAMILY = (Level.SAME_SOUND, Level.INITIAL, Level.DIFFERENT)


def is_sibling_shape(evidence: Evidence) -> bool:
    """Same family, and a given name that is neither a nickname nor a slip of the other: a name in
    its own right (Erin beside Eric), or one related only through a third name (Carly, Carl)."""
    given = evidence.given
    other_name = given.level in _NOT_THE_SAME_GIVEN_NAME or (
        given.distinct_names and given.level in (Level.NICKNAME, Level.ONE_EDIT, Level.TWO_EDITS)
    )
    return evidence.family.level in _SAME_FAMILY and other_name


def is_surname_change(evidence: Evidence) -> bool:
    """The given name agrees and the family name is another one."""
    return evidence.given.level is Level.EQUAL and evidence.family.level in _OTHER_FAMILY


def _sibling_shape(facts: _Facts) -> Decision | None:
    """The id found a record of the same family with another child's given name: whatever the id
    says, a person decides (twins and siblings share surname, address and often paperwork)."""
    matched = facts.matched()
    if matched is None or not is_sibling_shape(evidence := facts.evidence[matched[0].id]):
        return None
    return Hold(HoldReason.NAME_MISMATCH, matched[0].id, (matched[0].id,), evidence.weight)


_NEAR_SPELLINGS = (Level.ONE_EDIT, Level.TWO_EDITS)


def is_another_childs_name(
    created: CreatedRecord, evidence: Evidence, frequencies: NameFrequencies, *, nicknames: bool
) -> bool:
    """Same family, a given name spelt only a letter or two from the other (Billie and Billy, Bobbie
    and Bobby, Michael and Micheal), and the given name as typed is carried by other SIS records of
    the district: there it is a name of its own, so as likely a twin's or a sibling's as a slip.
    With `nicknames`, a given name that agrees only as a nickname (Freddie and Frederick) too."""
    words = tokens(created.name.first)
    near_levels = (Level.NICKNAME, *_NEAR_SPELLINGS) if nicknames else _NEAR_SPELLINGS
    near = evidence.given.level in near_levels and not evidence.swapped
    return (
        near
        and evidence.family.level in _SAME_FAMILY
        and bool(words)
        and frequencies.share("given", words[0]) is not None
    )


def _another_childs_name(facts: _Facts) -> Decision | None:
    """The id found a record whose given name is a near spelling of the typed one, and the typed
    one is another child's name in this district: a person decides. Unless the SIS sent that
    record only after the created one was typed and no SIS record carries the typed names: then
    the id was typed for a child the SIS did not have yet, and it is this child's."""
    matched = facts.matched()
    if matched is None:
        return None
    record = matched[0]
    evidence = facts.evidence[record.id]
    nicknames = facts.thresholds.hold_nicknames
    if not is_another_childs_name(facts.created, evidence, facts.frequencies, nicknames=nicknames):
        return None
    # The SIS first sent the record after staff last saved the created one: the child was typed in
    # before the SIS had them, which is what Create Student for ALE is for (a mistyped or copied id
    # hits a child the SIS already had). And no SIS record carries the names as typed (else a twin
    # of the same batch is as likely).
    typed_first = record.sent_after_typing is True and facts.created.typed_names_in_sis is False
    if facts.thresholds.link_later_arrivals and typed_first:
        return None
    return Hold(HoldReason.NAME_MISMATCH, record.id, (record.id,), evidence.weight)


def _surname_change(facts: _Facts) -> Decision | None:
    """A changed family name may link only when a birth date was typed and agrees exactly."""
    matched = facts.matched()
    if matched is None or not is_surname_change(evidence := facts.evidence[matched[0].id]):
        return None
    if evidence.level(BIRTH) is Level.EQUAL and evidence.weight >= facts.thresholds.link:
        return Link(matched[0].id, matched[1], evidence.weight)
    return Hold(HoldReason.NAME_MISMATCH, matched[0].id, (matched[0].id,), evidence.weight)


def _evidence_decides(facts: _Facts) -> Decision | None:
    """One record matched by id: link when the summed evidence clears the link threshold."""
    matched = facts.matched()
    if matched is None:
        return None
    record, method = matched
    weight = facts.evidence[record.id].weight
    if weight >= facts.thresholds.link:
        return Link(record.id, method, weight)
    return Hold(HoldReason.NAME_MISMATCH, record.id, (record.id,), weight)


def _best(facts: _Facts, keep: Callable[[Evidence], bool]) -> list[tuple[float, int]]:
    """Weights of the undismissed candidates whose evidence passes `keep`, best first."""
    kept = [(e.weight, cid) for cid, e in facts.evidence.items() if cid not in facts.dismissed and keep(e)]
    return sorted(kept, key=lambda pair: (-pair[0], pair[1]))


def _possible_ssid_typo(facts: _Facts) -> Decision | None:
    """No id match, but a record whose names corroborate has an SSID one typo away, or two digits
    away when names and birth date together are strong."""
    limits = facts.thresholds

    def near(e: Evidence) -> bool:
        if is_sibling_shape(e) or e.names_weight < limits.suggest:
            return False
        if e.level(SSID) is Level.ONE_TYPO:
            return True
        return (
            e.level(SSID) is Level.TWO_DIGITS
            and e.level(BIRTH) is Level.EQUAL
            and (e.weight >= limits.two_digit_ssid)
        )

    found = _best(facts, near) if facts.matched() is None else []
    return Wait(Suggestion(found[0][1], SuggestionKind.POSSIBLE_SSID_TYPO, found[0][0])) if found else None


def _possible_sis_match(facts: _Facts) -> Decision | None:
    """A record typed without ids: its best candidate, when strong and clearly ahead of the next."""
    if facts.created.ssid or facts.created.other_id:
        return None
    ranked = _best(facts, lambda e: True)
    if not ranked or ranked[0][0] < facts.thresholds.possible_match:
        return None
    if len(ranked) > 1 and ranked[0][0] - ranked[1][0] < facts.thresholds.margin:
        return None
    return Wait(Suggestion(ranked[0][1], SuggestionKind.POSSIBLE_SIS_MATCH, ranked[0][0]))


RULES: tuple[Rule, ...] = (
    _ids_point_apart,
    _ambiguous_other_id,
    _matched_record_contradicts,
    _sibling_shape,
    _another_childs_name,
    _surname_change,
    _evidence_decides,
    _possible_ssid_typo,
    _possible_sis_match,
)


def decide(
    created: CreatedRecord,
    candidates: Sequence[SisCandidate],
    thresholds: Thresholds,
    dismissed: frozenset[int] = frozenset(),
    frequencies: NameFrequencies = NO_FREQUENCIES,
) -> Decision:
    """The decision for one created record; `candidates` are active SIS records of its district
    that its ids, an SSID typo or its names point at."""
    facts = _facts(created, candidates, thresholds, dismissed, frequencies)
    for rule in RULES:
        decision = rule(facts)
        if decision is not None:
            return _named(decision, rule.__name__.lstrip("_"))
    return Wait()


def _named(decision: Decision, rule: str) -> Decision:
    if isinstance(decision, Link):
        return Link(decision.sis_record_id, decision.method, decision.weight, rule)
    if isinstance(decision, Hold):
        return Hold(decision.reason, decision.candidate_id, decision.candidate_ids, decision.weight, rule)
    return Wait(decision.suggestion, rule)
