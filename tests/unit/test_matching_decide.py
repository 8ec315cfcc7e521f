"""The design's matching table, one parametrized row per table row, plus the edges around it."""

from __future__ import annotations

import pytest

from matching.core.decide import Hold, Link, Suggestion, Thresholds, Wait, decide
from matching.core.records import CreatedRecord, PersonName, SisCandidate

D = "17001"
ANA = PersonName("Ana", "Reyes")


def created(ssid: str | None = None, other_id: str | None = None, name: PersonName = ANA) -> CreatedRecord:
    return CreatedRecord(id=1, district_id=D, name=name, ssid=ssid, other_id=other_id)


def sis(
    id: int,
    ssid: str | None = None,
    other_id: str | None = None,
    name: PersonName = ANA,
    district: str = D,
) -> SisCandidate:
    return SisCandidate(id=id, district_id=district, name=name, ssid=ssid, other_id=other_id)


TABLE = [
    # row 1: exactly one SIS record has the SSID, nothing contradicts, names corroborate -> link
    (created(ssid="0123456789"), [sis(10, ssid="0123456789")], Link(10, "ssid")),
    # row 1, "failing that": no SSID on the created record, one SIS record has its Other ID -> link
    (created(other_id="S-77"), [sis(11, other_id="S-77")], Link(11, "other_id")),
    # row 2: SSID and Other ID point at different SIS records -> hold ids_disagree
    (
        created(ssid="0123456789", other_id="S-77"),
        [sis(10, ssid="0123456789", other_id="S-01"), sis(11, other_id="S-77")],
        Hold("ids_disagree", 10, (10, 11)),
    ),
    # row 2: the matched record carries a different value for the created record's other id
    (
        created(ssid="0123456789", other_id="S-77"),
        [sis(10, ssid="0123456789", other_id="S-99")],
        Hold("ids_disagree", 10, (10,)),
    ),
    # row 3: the id matches one record but the names clearly disagree -> hold name_mismatch
    (
        created(ssid="0123456789"),
        [sis(12, ssid="0123456789", name=PersonName("Marcus", "Okafor"))],
        Hold("name_mismatch", 12, (12,)),
    ),
    # row 4: the Other ID matches several SIS records of the district -> hold ambiguous_other_id
    (
        created(other_id="S-77"),
        [sis(13, other_id="S-77"), sis(14, other_id="S-77")],
        Hold("ambiguous_other_id", None, (13, 14)),
    ),
    # row 5: no SIS record has the id yet -> wait
    (created(ssid="0123456789"), [], Wait()),
    # row 6: no match, but a same-named record's SSID is one swapped digit away -> wait with suggestion
    (created(ssid="0123456789"), [sis(15, ssid="0123456798")], Wait(Suggestion(15, "possible_ssid_typo"))),
]


@pytest.mark.parametrize(("record", "candidates", "expected"), TABLE)
def test_each_row_of_the_design_table_decides_as_the_contract_says(
    record: CreatedRecord, candidates: list[SisCandidate], expected: object
) -> None:
    decision = decide(record, candidates)
    if isinstance(expected, Hold) and isinstance(decision, Hold) and expected.name_score is None:
        decision = Hold(decision.reason, decision.candidate_id, decision.candidate_ids)
    assert decision == expected


def test_a_link_keeps_the_name_score_it_was_decided_on() -> None:
    decision = decide(
        created(ssid="0123456789"), [sis(10, ssid="0123456789", name=PersonName("Ána", "Reyes"))]
    )
    assert decision == Link(10, "ssid", 1.0)


def test_a_created_record_without_any_id_waits_for_staff() -> None:
    assert decide(created(), [sis(10, ssid="0123456789")]) == Wait()


def test_an_ssid_hit_resolves_an_other_id_shared_by_several_records() -> None:
    record = created(ssid="0123456789", other_id="S-77")
    candidates = [sis(10, ssid="0123456789", other_id="S-77"), sis(11, other_id="S-77")]
    assert decide(record, candidates) == Link(10, "ssid")


def test_an_other_id_hit_whose_record_has_another_ssid_is_held() -> None:
    record = created(ssid="0123456789", other_id="S-77")
    assert decide(record, [sis(11, ssid="9999999999", other_id="S-77")]) == Hold("ids_disagree", 11, (11,))


def test_a_record_missing_the_other_id_does_not_contradict() -> None:
    record = created(ssid="0123456789", other_id="S-77")
    assert decide(record, [sis(10, ssid="0123456789")]) == Link(10, "ssid")


def test_a_candidate_of_another_district_is_never_linked() -> None:
    record = created(other_id="S-77")
    assert decide(record, [sis(11, other_id="S-77", district="27010")]) == Wait()


def test_names_between_the_thresholds_are_held_not_linked() -> None:
    record = created(ssid="0123456789", name=PersonName("Jon", "Smith"))
    decision = decide(
        record, [sis(10, ssid="0123456789", name=PersonName("John", "Smyth"))], Thresholds(0.95)
    )
    assert isinstance(decision, Hold)
    assert decision.reason == "name_mismatch"


def test_a_typo_suggestion_needs_the_names_to_corroborate() -> None:
    stranger = sis(15, ssid="0123456798", name=PersonName("Marcus", "Okafor"))
    assert decide(created(ssid="0123456789"), [stranger]) == Wait()


def test_a_dismissed_pair_is_never_suggested_again() -> None:
    record = created(ssid="0123456789")
    assert decide(record, [sis(15, ssid="0123456798")], dismissed=frozenset({15})) == Wait()


def test_an_ssid_two_typos_away_is_not_suggested() -> None:
    assert decide(created(ssid="0123456789"), [sis(15, ssid="0123456700")]) == Wait()


def test_the_best_named_typo_candidate_is_the_one_suggested() -> None:
    near = sis(15, ssid="0123456788", name=PersonName("Anna", "Reyes"))
    exact = sis(16, ssid="1123456789")
    decision = decide(created(ssid="0123456789"), [near, exact])
    assert isinstance(decision, Wait)
    assert decision.suggestion is not None
    assert decision.suggestion.sis_record_id == 16
