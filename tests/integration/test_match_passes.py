"""District and single-record passes against real Postgres: the table applied, holds kept and
re-evaluated, suggestions made, nothing across districts, re-runs change nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from matching.core.decide import Hold, Link, Wait
from matching.district_pass import match_district
from matching.record_pass import match_created_record
from matching.staff_links import dismiss_suggestion
from models import HoldRow, LinkAudit, Student, SuggestionRow
from tests.integration.test_match_support import count, created, district, plan, sis
from tests.integration.test_staff_links import _staff


def _status(session: Session, record: Student) -> tuple[str, int | None]:
    session.refresh(record)
    return str(record.status), record.merged_into_id


def _snapshot(session: Session) -> dict[str, Any]:
    tables = (
        "students",
        "learning_plans",
        "holds",
        "suggestions",
        "link_audit",
        "audit_log",
        "outbox_events",
    )
    return {t: session.execute(text(f"SELECT * FROM {t} ORDER BY 1, 2")).all() for t in tables}


def test_a_district_pass_applies_every_row_of_the_table(db_session: Session) -> None:
    d = district(db_session)
    by_ssid = created(db_session, d, "José", "García", ssid="0000000001")
    by_other = created(db_session, d, "Bill", "Ng", other_id="S-2")
    apart = created(db_session, d, "Ana", "Reyes", ssid="0000000003", other_id="S-3")
    wrong_child = created(db_session, d, "Ana", "Reyes", ssid="0000000004")
    ambiguous = created(db_session, d, "Ana", "Reyes", other_id="S-5")
    waiting = created(db_session, d, "Ana", "Reyes", ssid="0000000099")
    typo = created(db_session, d, "Lena", "Park", ssid="0000000070")
    no_ids = created(db_session, d, "Lena", "Park")
    s1 = sis(db_session, d, "Jose", "Garcia", ssid="0000000001")
    s2 = sis(db_session, d, "William", "Ng", other_id="S-2")
    s3 = sis(db_session, d, "Ana", "Reyes", ssid="0000000003", other_id="S-9")
    sis(db_session, d, "Someone", "Else", other_id="S-3")
    s4 = sis(db_session, d, "Marcus", "Okafor", ssid="0000000004")
    sis(db_session, d, "Ana", "Reyes", other_id="S-5", sis_source_id="a")
    sis(db_session, d, "Ana", "Reyes", other_id="S-5", sis_source_id="b")
    s7 = sis(db_session, d, "Lena", "Park", ssid="0000000007")
    summary = match_district(db_session, d)
    assert (summary.linked, summary.held, summary.waiting, summary.suggested) == (2, 3, 3, 1)
    assert _status(db_session, by_ssid) == ("merged", s1.id)
    assert _status(db_session, by_other) == ("merged", s2.id)
    holds = {
        h.created_record_id: (h.reason, h.candidate_sis_record_id)
        for h in db_session.scalars(select(HoldRow))
    }
    assert holds == {
        apart.id: ("ids_disagree", s3.id),
        wrong_child.id: ("name_mismatch", s4.id),
        ambiguous.id: ("ambiguous_other_id", None),
    }
    suggestion = db_session.scalars(select(SuggestionRow)).one()
    assert (suggestion.created_record_id, suggestion.sis_record_id, suggestion.kind) == (
        typo.id,
        s7.id,
        "possible_ssid_typo",
    )
    assert _status(db_session, waiting) == ("active", None)
    assert _status(db_session, no_ids) == ("active", None)
    methods = {a.created_record_id: a.method for a in db_session.scalars(select(LinkAudit))}
    assert methods == {by_ssid.id: "ssid", by_other.id: "other_id"}


def test_running_a_pass_again_changes_nothing(db_session: Session) -> None:
    d = district(db_session)
    created(db_session, d, "Ana", "Reyes", ssid="0000000001")
    created(db_session, d, "Ana", "Reyes", ssid="0000000004")
    created(db_session, d, "Lena", "Park", ssid="0000000070")
    sis(db_session, d, "Ana", "Reyes", ssid="0000000001")
    sis(db_session, d, "Marcus", "Okafor", ssid="0000000004")
    sis(db_session, d, "Lena", "Park", ssid="0000000007")
    match_district(db_session, d)
    before = _snapshot(db_session)
    summary = match_district(db_session, d)
    assert summary.linked == 0
    assert _snapshot(db_session) == before


def test_a_hold_is_resolved_when_a_later_batch_corrects_the_sis_record(db_session: Session) -> None:
    d = district(db_session)
    record = created(db_session, d, "Ana", "Reyes", ssid="0000000001", other_id="S-1")
    target = sis(db_session, d, "Ana", "Reyes", ssid="0000000001", other_id="S-X")
    match_district(db_session, d)
    assert db_session.get(HoldRow, record.id) is not None
    target.other_id = "S-1"
    db_session.flush()
    match_district(db_session, d)
    assert _status(db_session, record) == ("merged", target.id)
    assert count(db_session, HoldRow) == 0


def test_a_hold_keeps_its_reason_and_candidate_and_names_no_one(db_session: Session) -> None:
    d = district(db_session)
    record = created(db_session, d, "Ana", "Reyes", ssid="0000000004")
    other_child = sis(db_session, d, "Marcus", "Okafor", ssid="0000000004")
    match_district(db_session, d)
    hold = db_session.get(HoldRow, record.id)
    assert hold is not None
    assert (hold.reason, hold.candidate_sis_record_id) == ("name_mismatch", other_child.id)
    assert hold.detail is not None and set(hold.detail) == {"candidate_ids", "name_score", "rule"}
    assert (hold.detail["candidate_ids"], hold.detail["rule"]) == ([other_child.id], "evidence_decides")


def test_other_id_never_links_across_districts(db_session: Session) -> None:
    d, elsewhere = district(db_session), district(db_session, "27010")
    record = created(db_session, d, "Ana", "Reyes", other_id="S-1")
    sis(db_session, elsewhere, "Ana", "Reyes", other_id="S-1")
    match_district(db_session, d)
    match_district(db_session, elsewhere)
    assert _status(db_session, record) == ("active", None)
    assert count(db_session, LinkAudit) == 0


def test_a_record_saved_with_its_ssid_links_at_once_when_its_sis_record_is_there(db_session: Session) -> None:
    d = district(db_session)
    target = sis(db_session, d, "Ana", "Reyes", ssid="0000000001")
    record = created(db_session, d, "Ana", "Reyes", ssid="0000000001")
    plan(db_session, record)
    decision = match_created_record(db_session, d, record.id)
    assert decision == Link(target.id, "ssid", 1.0)
    assert _status(db_session, record) == ("merged", target.id)


def test_the_single_record_pass_holds_and_waits_like_the_district_pass(db_session: Session) -> None:
    d = district(db_session)
    sis(db_session, d, "Marcus", "Okafor", ssid="0000000004")
    held = created(db_session, d, "Ana", "Reyes", ssid="0000000004")
    waiting = created(db_session, d, "Ana", "Reyes", ssid="0000000009")
    assert isinstance(match_created_record(db_session, d, held.id), Hold)
    assert match_created_record(db_session, d, waiting.id) == Wait()
    assert db_session.get(HoldRow, held.id) is not None


def test_editing_the_ids_of_a_held_record_clears_its_hold(db_session: Session) -> None:
    d = district(db_session)
    sis(db_session, d, "Marcus", "Okafor", ssid="0000000004")
    record = created(db_session, d, "Ana", "Reyes", ssid="0000000004")
    match_created_record(db_session, d, record.id)
    record.ssid = "0000000005"
    db_session.flush()
    assert match_created_record(db_session, d, record.id) == Wait()
    assert count(db_session, HoldRow) == 0


def test_a_single_record_pass_on_a_merged_record_does_nothing(db_session: Session) -> None:
    d = district(db_session)
    target = sis(db_session, d, "Ana", "Reyes", ssid="0000000001")
    record = created(db_session, d, "Ana", "Reyes", ssid="0000000001")
    match_created_record(db_session, d, record.id)
    assert match_created_record(db_session, d, record.id) == Wait()
    assert _status(db_session, record) == ("merged", target.id)


def test_a_pass_leaves_no_hold_on_a_record_linked_meanwhile(db_session: Session) -> None:
    d = district(db_session)
    record = created(db_session, d, "Ana", "Reyes", ssid="0000000004")
    sis(db_session, d, "Marcus", "Okafor", ssid="0000000004")
    right = sis(db_session, d, "Ana", "Reyes", sis_source_id="right")
    match_district(db_session, d)
    db_session.execute(
        text("UPDATE students SET status = 'merged', merged_into_id = :s WHERE id = :c"),
        {"s": right.id, "c": record.id},
    )
    match_district(db_session, d)
    assert count(db_session, HoldRow) == 0
    assert _status(db_session, record) == ("merged", right.id)


def test_an_exact_other_id_with_a_one_digit_ssid_slip_is_held_on_that_one_record(db_session: Session) -> None:
    d = district(db_session)
    record = created(db_session, d, "Ana", "Reyes", ssid="0000000071", other_id="S-7")
    target = sis(db_session, d, "Ana", "Reyes", ssid="0000000070", other_id="S-7")
    match_district(db_session, d)
    hold = db_session.get(HoldRow, record.id)
    assert hold is not None and hold.detail is not None
    # not "several SIS students share the Other ID": the typo lookup found the same record again
    assert (hold.reason, hold.candidate_sis_record_id) == ("ids_disagree", target.id)
    assert hold.detail["candidate_ids"] == [target.id]


def test_a_record_without_ids_is_suggested_its_one_strong_candidate_until_dismissed(
    db_session: Session,
) -> None:
    d = district(db_session)
    born = date(2018, 4, 9)
    record = created(db_session, d, "Lena", "Park", birth_date=born)
    right = sis(db_session, d, "Lena", "Park", birth_date=born, sis_source_id="right")
    sis(db_session, d, "Lena", "Park", birth_date=date(2015, 1, 1), sis_source_id="namesake")
    match_district(db_session, d)
    suggestion = db_session.scalars(select(SuggestionRow)).one()
    assert (suggestion.sis_record_id, suggestion.kind) == (right.id, "possible_sis_match")
    assert _status(db_session, record) == ("active", None)  # suggested, never linked
    dismiss_suggestion(db_session, _staff(db_session, d), record.id, right.id)
    match_district(db_session, d)
    assert count(db_session, SuggestionRow) == 0


def test_namesakes_without_a_birth_date_typed_give_no_possible_match(db_session: Session) -> None:
    d = district(db_session)
    created(db_session, d, "Lena", "Park")
    sis(db_session, d, "Lena", "Park", birth_date=date(2018, 4, 9), sis_source_id="one")
    sis(db_session, d, "Lena", "Park", birth_date=date(2015, 1, 1), sis_source_id="two")
    match_district(db_session, d)
    assert count(db_session, SuggestionRow) == 0


@pytest.mark.parametrize(
    ("typed_ssid", "birth_date", "suggested"),
    [
        ("0000000108", None, True),  # one digit wrong
        ("0000000170", None, True),  # two neighbouring digits swapped
        ("0000000198", date(2018, 4, 9), True),  # two digits wrong, names and birth date agree
        ("0000000198", None, False),  # two digits wrong and nothing else to corroborate
        ("0000000198", date(2018, 4, 10), False),  # ... or a birth date that is only close
    ],
)
def test_an_ssid_slip_is_suggested_only_as_far_as_the_evidence_carries_it(
    db_session: Session, typed_ssid: str, birth_date: date | None, suggested: bool
) -> None:
    d = district(db_session)
    record = created(db_session, d, "Lena", "Park", ssid=typed_ssid, birth_date=birth_date)
    right = sis(db_session, d, "Lena", "Park", ssid="0000000107", birth_date=date(2018, 4, 9))
    match_district(db_session, d)
    found = [(s.sis_record_id, s.kind) for s in db_session.scalars(select(SuggestionRow))]
    assert found == ([(right.id, "possible_ssid_typo")] if suggested else [])
    assert _status(db_session, record) == ("active", None)  # a suggestion is never a link


def test_a_record_without_ids_gets_no_possible_match_when_its_best_candidate_is_not_clearly_ahead(
    db_session: Session,
) -> None:
    d = district(db_session)
    born = date(2018, 4, 9)
    created(db_session, d, "Lena", "Park", birth_date=born)
    sis(db_session, d, "Lena", "Park", birth_date=born, sis_source_id="one")
    # a child entered in the SIS with given and family the other way round: one bit behind
    sis(db_session, d, "Park", "Lena", birth_date=born, sis_source_id="swapped")
    match_district(db_session, d)
    assert count(db_session, SuggestionRow) == 0
