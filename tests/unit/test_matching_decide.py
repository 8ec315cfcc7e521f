"""The decision table, one parametrized row per rule, each row saying which rule fired."""

from __future__ import annotations

from datetime import date

import pytest

from config.settings import Settings
from matching.core.decide import Hold, Link, Suggestion, Thresholds, Wait, decide
from matching.core.evidence import NameFrequencies
from matching.core.records import CreatedRecord, PersonName, SisCandidate

D = "17001"
ANA = PersonName("Ana", "Reyes")
BORN = date(2018, 4, 9)


def thresholds() -> Thresholds:
    """The shipped defaults (config/settings.py)."""
    fields = Settings.model_fields
    return Thresholds(
        link=fields["match_link_weight"].default,
        suggest=fields["match_suggest_names_weight"].default,
        two_digit_ssid=fields["match_two_digit_ssid_weight"].default,
        possible_match=fields["match_possible_weight"].default,
        margin=fields["match_possible_margin"].default,
        hold_nicknames=fields["match_hold_nicknames"].default,
        link_later_arrivals=fields["match_link_later_arrivals"].default,
    )


def created(
    ssid: str | None = None,
    other_id: str | None = None,
    name: PersonName = ANA,
    born: date | None = None,
    named_so: bool | None = None,
) -> CreatedRecord:
    return CreatedRecord(
        id=1,
        district_id=D,
        name=name,
        ssid=ssid,
        other_id=other_id,
        birth_date=born,
        typed_names_in_sis=named_so,
    )


def sis(
    id: int,
    ssid: str | None = None,
    other_id: str | None = None,
    name: PersonName = ANA,
    district: str = D,
    born: date | None = None,
    sent_after: bool | None = None,
) -> SisCandidate:
    return SisCandidate(
        id=id,
        district_id=district,
        name=name,
        ssid=ssid,
        other_id=other_id,
        birth_date=born,
        sent_after_typing=sent_after,
    )


S = "0123456789"
TABLE = [
    # one SIS record has the SSID, the names agree -> link
    (created(ssid=S), [sis(10, ssid=S)], Link(10, "ssid"), "evidence_decides"),
    # no SSID typed, one record has the Other ID -> link
    (created(other_id="S-77"), [sis(11, other_id="S-77")], Link(11, "other_id"), "evidence_decides"),
    # an ordinary slip in the given name (Mihcael for Michael) no longer stops an id link
    (
        created(ssid=S, name=PersonName("Mihcael", "Green")),
        [sis(10, ssid=S, name=PersonName("Michael", "Green"))],
        Link(10, "ssid"),
        "evidence_decides",
    ),
    # SSID and Other ID point at different records -> hold ids_disagree
    (
        created(ssid=S, other_id="S-77"),
        [sis(10, ssid=S, other_id="S-01"), sis(11, other_id="S-77")],
        Hold("ids_disagree", 10, (10, 11)),
        "ids_point_apart",
    ),
    # the Other ID is carried by several records -> hold ambiguous_other_id
    (
        created(other_id="S-77"),
        [sis(13, other_id="S-77"), sis(14, other_id="S-77")],
        Hold("ambiguous_other_id", None, (13, 14)),
        "ambiguous_other_id",
    ),
    # the matched record carries another value for the other id -> hold ids_disagree
    (
        created(ssid=S, other_id="S-77"),
        [sis(10, ssid=S, other_id="S-99")],
        Hold("ids_disagree", 10, (10,)),
        "matched_record_contradicts",
    ),
    # the exact Other ID plus a one-digit SSID slip: the one record, once, and its SSID contradicts
    (
        created(ssid="0123456780", other_id="S-77"),
        [sis(10, ssid=S, other_id="S-77"), sis(10, ssid=S, other_id="S-77")],
        Hold("ids_disagree", 10, (10,)),
        "matched_record_contradicts",
    ),
    # the SSID hits a sibling (same family, another given name) -> held whatever the id says
    (
        created(ssid=S, name=PersonName("Noah", "Patel")),
        [sis(12, ssid=S, name=PersonName("Liam", "Patel"))],
        Hold("name_mismatch", 12, (12,)),
        "sibling_shape",
    ),
    # twins whose names differ by one letter but are names in their own right (Eric, Erin)
    (
        created(ssid=S, name=PersonName("Erin", "Lee"), born=BORN),
        [sis(12, ssid=S, name=PersonName("Eric", "Lee"), born=BORN)],
        Hold("name_mismatch", 12, (12,)),
        "sibling_shape",
    ),
    # an initial is not a given name
    (
        created(ssid=S, name=PersonName("J", "Smith")),
        [sis(12, ssid=S, name=PersonName("Jacob", "Smith"))],
        Hold("name_mismatch", 12, (12,)),
        "sibling_shape",
    ),
    # a changed family name without a birth date typed -> held
    (
        created(ssid=S, name=PersonName("Ana", "Okafor")),
        [sis(12, ssid=S, born=BORN)],
        Hold("name_mismatch", 12, (12,)),
        "surname_change",
    ),
    # a changed family name with the birth date typed and equal -> link
    (
        created(ssid=S, name=PersonName("Ana", "Okafor"), born=BORN),
        [sis(12, ssid=S, born=BORN)],
        Link(12, "ssid"),
        "surname_change",
    ),
    # the id hits another child altogether -> hold name_mismatch
    (
        created(ssid=S),
        [sis(12, ssid=S, name=PersonName("Marcus", "Okafor"))],
        Hold("name_mismatch", 12, (12,)),
        "evidence_decides",
    ),
    # no record has the id yet -> wait
    (created(ssid=S), [], Wait(), "nothing_matched"),
    # an SSID one swapped pair away on a record of the same name -> suggestion
    (created(ssid=S), [sis(15, ssid="0123456798")], Wait(Suggestion(15)), "possible_ssid_typo"),
    # one digit away with a slip in the given name: the names still corroborate
    (
        created(ssid=S, name=PersonName("Mihcael", "Green")),
        [sis(15, ssid="0123456780", name=PersonName("Michael", "Green"))],
        Wait(Suggestion(15)),
        "possible_ssid_typo",
    ),
    # two digits wrong, names and birth date agree -> suggestion
    (
        created(ssid=S, born=BORN),
        [sis(15, ssid="0123456700", born=BORN)],
        Wait(Suggestion(15)),
        "possible_ssid_typo",
    ),
    # two digits wrong without a birth date -> nothing
    (created(ssid=S), [sis(15, ssid="0123456700")], Wait(), "nothing_matched"),
    # no ids, one strong candidate by names and birth date -> possible SIS match
    (
        created(born=BORN),
        [sis(20, born=BORN), sis(21, name=PersonName("Ana", "Reyes"), born=date(2015, 1, 1))],
        Wait(Suggestion(20, "possible_sis_match")),
        "possible_sis_match",
    ),
    # no ids, two namesakes and nothing to tell them apart -> no suggestion
    (created(), [sis(20), sis(21)], Wait(), "nothing_matched"),
]


@pytest.mark.parametrize(("record", "candidates", "expected", "rule"), TABLE)
def test_each_row_of_the_decision_table_decides_and_names_its_rule(
    record: CreatedRecord, candidates: list[SisCandidate], expected: object, rule: str
) -> None:
    decision = decide(record, candidates, thresholds())
    assert decision == expected
    assert decision.rule == rule


def test_a_link_keeps_the_weight_it_was_decided_on() -> None:
    decision = decide(created(ssid=S), [sis(10, ssid=S, name=PersonName("Ána", "Reyes"))], thresholds())
    assert isinstance(decision, Link) and decision.weight >= thresholds().link


def test_a_candidate_of_another_district_is_never_linked() -> None:
    record = created(other_id="S-77")
    assert decide(record, [sis(11, other_id="S-77", district="27010")], thresholds()) == Wait()


def test_a_record_missing_the_other_id_does_not_contradict() -> None:
    record = created(ssid=S, other_id="S-77")
    assert decide(record, [sis(10, ssid=S)], thresholds()) == Link(10, "ssid")


def test_an_ssid_hit_resolves_an_other_id_shared_by_several_records() -> None:
    record = created(ssid=S, other_id="S-77")
    candidates = [sis(10, ssid=S, other_id="S-77"), sis(11, other_id="S-77")]
    assert decide(record, candidates, thresholds()) == Link(10, "ssid")


def test_a_higher_link_threshold_holds_what_the_default_links() -> None:
    record, candidates = (
        created(ssid=S, name=PersonName("Mihcael", "Green")),
        [sis(10, ssid=S, name=PersonName("Michael", "Green"))],
    )
    strict = Thresholds(**{**thresholds().__dict__, "link": 40.0})
    assert isinstance(decide(record, candidates, thresholds()), Link)
    assert decide(record, candidates, strict) == Hold("name_mismatch", 10, (10,))


def test_a_typo_suggestion_needs_the_names_to_corroborate() -> None:
    stranger = sis(15, ssid="0123456798", name=PersonName("Marcus", "Okafor"))
    assert decide(created(ssid=S), [stranger], thresholds()) == Wait()


@pytest.mark.parametrize(
    "candidates",
    [
        [sis(15, ssid="0123456798")],  # an SSID typo
        [sis(20, born=BORN)],  # a possible SIS match
    ],
)
def test_a_dismissed_pair_is_never_suggested_again(candidates: list[SisCandidate]) -> None:
    record = created(ssid=S) if candidates[0].ssid else created(born=BORN)
    assert decide(record, candidates, thresholds(), dismissed=frozenset({candidates[0].id})) == Wait()


def test_the_best_evidenced_typo_candidate_is_the_one_suggested() -> None:
    near = sis(15, ssid="0123456788", name=PersonName("Anna", "Reyes"))
    exact = sis(16, ssid="1123456789")
    assert decide(created(ssid=S), [near, exact], thresholds()) == Wait(Suggestion(16))


def district_names(*given: str) -> NameFrequencies:
    """A district of 200 SIS records carrying these given names (one record each)."""
    return NameFrequencies(200, dict.fromkeys(given, 1), {})


ANOTHER_CHILDS_NAME = [
    # a twin Billie typed with her brother Billy's SSID, and the district has a Billie: held
    (PersonName("Billie", "House"), PersonName("Billy", "House"), ("billy", "billie"), "another_childs_name"),
    # Michael typed onto a Micheal: Michael is a name the district carries -> held
    (
        PersonName("Michael", "Solis"),
        PersonName("Micheal", "Solis"),
        ("micheal", "michael"),
        "another_childs_name",
    ),
    # the same spelling with no Billie in the district: a slip, the evidence links it
    (PersonName("Billie", "House"), PersonName("Billy", "House"), ("billy",), "evidence_decides"),
    # a slip that is nobody's name (Mihcael) still links though the district has Michaels
    (PersonName("Mihcael", "Green"), PersonName("Michael", "Green"), ("michael",), "evidence_decides"),
    # a nickname nobody in the district carries as a name of their own is the same child's
    (PersonName("Bill", "Ng"), PersonName("William", "Ng"), ("william",), "evidence_decides"),
    # one the district carries (its SIS has a Bill) could be a twin's name: held
    (PersonName("Bill", "Ng"), PersonName("William", "Ng"), ("william", "bill"), "another_childs_name"),
]


@pytest.mark.parametrize(("typed", "actual", "given", "rule"), ANOTHER_CHILDS_NAME)
def test_a_given_name_typed_as_another_child_of_the_district_is_named_is_held(
    typed: PersonName, actual: PersonName, given: tuple[str, ...], rule: str
) -> None:
    record = created(ssid=S, name=typed, born=BORN)
    decision = decide(
        record, [sis(10, ssid=S, name=actual, born=BORN)], thresholds(), frequencies=district_names(*given)
    )
    expected = Hold("name_mismatch", 10, (10,)) if rule == "another_childs_name" else Link(10, "ssid")
    assert (decision, decision.rule) == (expected, rule)


JIMMY, JAMES = PersonName("Jimmy", "Ng"), PersonName("James", "Ng")
BILLIE, BILLY = PersonName("Billie", "House"), PersonName("Billy", "House")
HELD = Hold("name_mismatch", 10, (10,))
# typed, SIS record's names, SIS sent it after the record was typed, an SIS record named as typed
ARRIVAL = [
    # Jimmy typed in before the SIS had him; the SIS then sends James Ng with that SSID, and no SIS
    # record is named Jimmy Ng: the id was typed for a child the SIS did not have yet -> linked
    (JIMMY, JAMES, True, False, Link(10, "ssid"), "evidence_decides"),
    # the same, a near spelling (Billie for Billy) -> linked
    (BILLIE, BILLY, True, False, Link(10, "ssid"), "evidence_decides"),
    # the SIS already had James when Jimmy was typed: as likely a twin's id -> held
    (JIMMY, JAMES, False, False, HELD, "another_childs_name"),
    # sent after, but the SIS also has a Jimmy Ng of his own (a twin of the same batch) -> held
    (JIMMY, JAMES, True, True, HELD, "another_childs_name"),
    # either not known (nobody asked) -> held
    (JIMMY, JAMES, None, False, HELD, "another_childs_name"),
    (JIMMY, JAMES, True, None, HELD, "another_childs_name"),
    # a sibling's shape is held whenever the SIS sent it (Erin typed, Eric's SSID)
    (PersonName("Erin", "Ng"), PersonName("Eric", "Ng"), True, False, HELD, "sibling_shape"),
]


@pytest.mark.parametrize(("typed", "actual", "sent_after", "named_so", "expected", "rule"), ARRIVAL)
def test_a_near_given_name_links_when_the_sis_sent_the_record_after_it_was_typed(
    typed: PersonName,
    actual: PersonName,
    sent_after: bool | None,
    named_so: bool | None,
    expected: Link | Hold,
    rule: str,
) -> None:
    record = created(ssid=S, name=typed, born=BORN, named_so=named_so)
    found = [sis(10, ssid=S, name=actual, born=BORN, sent_after=sent_after)]
    given = district_names("jimmy", "james", "billie", "billy", "erin", "eric")
    decision = decide(record, found, thresholds(), frequencies=given)
    assert (decision, decision.rule) == (expected, rule)


def test_match_link_later_arrivals_off_holds_a_later_arrival_too() -> None:
    """MATCH_LINK_LATER_ARRIVALS=false: rule 5 holds whenever the SIS sent the record."""
    limits = Thresholds(**{**thresholds().__dict__, "link_later_arrivals": False})
    record = created(ssid=S, name=JIMMY, born=BORN, named_so=False)
    found = [sis(10, ssid=S, name=JAMES, born=BORN, sent_after=True)]
    decision = decide(record, found, limits, frequencies=district_names("jimmy", "james"))
    assert (decision, decision.rule) == (HELD, "another_childs_name")
    assert thresholds().link_later_arrivals is True


HOLD_NICKNAMES = [
    # a twin Freddie typed with his brother Frederick's SSID; the district carries Freddie: held
    (PersonName("Freddie", "Munoz"), PersonName("Frederick", "Munoz"), ("frederick", "freddie"), True),
    # either way round (Ronald typed for a Ron, where the district has a Ronald of its own)
    (PersonName("Ronald", "Calhoun"), PersonName("Ron", "Calhoun"), ("ron", "ronald"), True),
    # the middle name typed as the given name, where the district has another Ross: held
    (PersonName("Ross", "Hopkins"), PersonName("Roger", "Hopkins", "Ross"), ("roger", "ross"), True),
    # Freddie is nobody else's name in the district: the nickname of this very child, linked
    (PersonName("Freddie", "Munoz"), PersonName("Frederick", "Munoz"), ("frederick",), False),
    # another family's child: not rule 5's shape at all
    (PersonName("Freddie", "Munoz"), PersonName("Frederick", "Reyes"), ("frederick", "freddie"), None),
]


@pytest.mark.parametrize(("typed", "actual", "given", "held"), HOLD_NICKNAMES)
@pytest.mark.parametrize("switch", [True, False])
def test_match_hold_nicknames_decides_a_nickname_that_is_another_childs_name(
    typed: PersonName, actual: PersonName, given: tuple[str, ...], held: bool | None, switch: bool
) -> None:
    """MATCH_HOLD_NICKNAMES (on by default) holds it; off, the nickname links as the same child."""
    limits = Thresholds(**{**thresholds().__dict__, "hold_nicknames": switch})
    record = created(ssid=S, name=typed, born=BORN)
    decision = decide(
        record, [sis(10, ssid=S, name=actual, born=BORN)], limits, frequencies=district_names(*given)
    )
    if held is None:
        assert decision.rule != "another_childs_name"
    elif held and switch:
        assert (decision, decision.rule) == (Hold("name_mismatch", 10, (10,)), "another_childs_name")
    else:
        assert (decision, decision.rule) == (Link(10, "ssid"), "evidence_decides")


def test_the_shipped_default_holds_nicknames_that_are_names_of_their_own() -> None:
    assert thresholds().hold_nicknames is True
