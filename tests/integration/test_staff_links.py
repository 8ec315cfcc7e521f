"""The staff-linking service against real Postgres: link by a chosen candidate, by an entered SSID
or Other ID, dismiss a suggestion, delete; each refusal with its own code, each outcome complete."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.district_pass import match_district
from matching.record_pass import match_created_record
from matching.refusals import Refusal, RefusalCode
from matching.staff_links import (
    EnteredId,
    delete_created_record,
    dismiss_suggestion,
    link_by_entered_id,
    link_chosen,
)
from models import AuditAction, AuditEntry, HoldRow, LinkAudit, Staff, Student, SuggestionRow
from tests.integration.test_match_support import count, created, district, plan, sis


@dataclass(frozen=True)
class Member:
    staff_id: int
    district_id: str


def _staff(session: Session, d: str) -> Member:
    member = Staff(district_id=d, name="Reg", role="registrar", token_hash=f"{d:0>64}")
    session.add(member)
    session.flush()
    return Member(member.id, d)


def _status(session: Session, record: Student) -> tuple[str, int | None]:
    session.refresh(record)
    return str(record.status), record.merged_into_id


def test_staff_link_a_held_record_by_ssid(db_session: Session) -> None:
    d = district(db_session)
    record = created(db_session, d, "Ana", "Reyes", ssid="0000000004")
    sis(db_session, d, "Marcus", "Okafor", ssid="0000000004")
    right = sis(db_session, d, "Ana", "Reyes", ssid="0000000005")
    plan(db_session, record)
    match_district(db_session, d)
    staff = _staff(db_session, d)
    outcome = link_by_entered_id(db_session, staff, record.id, EnteredId.SSID, " 0000000005 ")
    assert (outcome.created_record_id, outcome.sis_record_id, outcome.plans_moved) == (record.id, right.id, 1)
    assert _status(db_session, record) == ("merged", right.id)
    audit = db_session.scalars(select(LinkAudit)).one()
    assert (audit.method, audit.actor_staff_id, audit.id) == ("manual_ssid", staff.staff_id, outcome.audit_id)
    assert count(db_session, HoldRow) == 0


@pytest.mark.parametrize(
    ("entered", "code"),
    [
        ("S-404", "sis_record_not_found"),  # no active SIS record of the district has it
        ("S-taken", "sis_record_taken"),  # another created record is already merged into it
        ("S-contradicts", "ids_contradict"),  # the SIS record carries another SSID than the created record
        ("S-elsewhere", "sis_record_not_found"),  # only another district has it
        ("S-twice", "ambiguous_other_id"),  # two SIS records of the district have it
    ],
)
def test_staff_link_by_other_id_is_refused_with_a_reason(
    db_session: Session, entered: str, code: str
) -> None:
    d, elsewhere = district(db_session), district(db_session, "27010")
    record = created(db_session, d, "Ana", "Reyes", ssid="0000000001")
    taken = sis(db_session, d, "Ana", "Reyes", other_id="S-taken")
    first = created(db_session, d, "Ana", "Reyes", other_id="S-taken")
    match_created_record(db_session, d, first.id)
    assert _status(db_session, first) == ("merged", taken.id)
    sis(db_session, d, "Ana", "Reyes", other_id="S-contradicts", ssid="0000000002")
    sis(db_session, elsewhere, "Ana", "Reyes", other_id="S-elsewhere")
    sis(db_session, d, "Ana", "Reyes", other_id="S-twice", sis_source_id="twice-1")
    sis(db_session, d, "Ana", "Reyes", other_id="S-twice", sis_source_id="twice-2")
    with pytest.raises(Refusal) as refused:
        link_by_entered_id(db_session, _staff(db_session, d), record.id, EnteredId.OTHER_ID, entered)
    assert refused.value.code == code
    assert _status(db_session, record) == ("active", None)


def test_a_record_merged_elsewhere_and_a_taken_sis_record_are_two_refusals(db_session: Session) -> None:
    d = district(db_session)
    staff = _staff(db_session, d)
    first, second = (created(db_session, d, "Ana", "Reyes") for _ in range(2))
    chosen, other = (sis(db_session, d, "Ana", "Reyes", sis_source_id=f"s-{n}") for n in range(2))
    link_chosen(db_session, staff, first.id, chosen.id)
    with pytest.raises(Refusal) as merged_elsewhere:
        link_chosen(db_session, staff, first.id, other.id)
    with pytest.raises(Refusal) as taken:
        link_chosen(db_session, staff, second.id, chosen.id)
    assert merged_elsewhere.value.code == RefusalCode.ALREADY_LINKED_ELSEWHERE
    assert taken.value.code == RefusalCode.SIS_RECORD_TAKEN
    assert _status(db_session, second) == ("active", None)


def test_choosing_the_same_sis_record_again_answers_the_first_links_outcome(db_session: Session) -> None:
    d = district(db_session)
    staff = _staff(db_session, d)
    record = created(db_session, d, "Ana", "Reyes")
    target = sis(db_session, d, "Ana", "Reyes")
    plan(db_session, record)
    first = link_chosen(db_session, staff, record.id, target.id)
    again = link_chosen(db_session, staff, record.id, target.id)
    assert (first.sis_record_id, first.plans_moved, first.already_linked) == (target.id, 1, False)
    assert (again.sis_record_id, again.audit_id, again.plans_moved, again.already_linked) == (
        target.id,
        first.audit_id,
        0,
        True,
    )


def test_a_created_record_of_another_district_is_not_found(db_session: Session) -> None:
    d, elsewhere = district(db_session), district(db_session, "27010")
    theirs = created(db_session, elsewhere, "Ana", "Reyes")
    mine = sis(db_session, d, "Ana", "Reyes")
    with pytest.raises(Refusal) as refused:
        link_chosen(db_session, _staff(db_session, d), theirs.id, mine.id)
    assert refused.value.code == RefusalCode.CREATED_RECORD_NOT_FOUND


def test_a_dismissed_suggestion_is_never_suggested_again(db_session: Session) -> None:
    d = district(db_session)
    record = created(db_session, d, "Lena", "Park", ssid="0000000070")
    near = sis(db_session, d, "Lena", "Park", ssid="0000000007")
    match_district(db_session, d)
    assert count(db_session, SuggestionRow) == 1
    dismiss_suggestion(db_session, _staff(db_session, d), record.id, near.id)
    assert count(db_session, SuggestionRow) == 0
    match_district(db_session, d)
    match_created_record(db_session, d, record.id)
    assert count(db_session, SuggestionRow) == 0
    assert count(db_session, AuditEntry, AuditEntry.action == AuditAction.DISMISS_SUGGESTION) == 1


def test_a_record_that_ever_had_a_plan_is_not_deleted(db_session: Session) -> None:
    d = district(db_session)
    used, unused = created(db_session, d, "Ana", "Reyes"), created(db_session, d, "Bo", "Lee")
    plan(db_session, used)
    staff = _staff(db_session, d)
    with pytest.raises(Refusal) as refused:
        delete_created_record(db_session, staff, used.id)
    delete_created_record(db_session, staff, unused.id)
    assert refused.value.code == RefusalCode.HAS_LEARNING_PLAN
    assert count(db_session, Student, Student.id == used.id) == 1
    assert count(db_session, Student, Student.id == unused.id) == 0
