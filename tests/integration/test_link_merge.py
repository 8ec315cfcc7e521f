"""The one merge path: plans move, the record retires, audit and outbox rows, refusals, idempotence."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.link import LinkOutcome, LinkRequest, link_created_record, link_created_records
from matching.refusals import Refusal, RefusalCode
from models import (
    AuditEntry,
    Batch,
    LearningPlan,
    LinkAudit,
    LinkMethod,
    OutboxEvent,
    Staff,
    Student,
    StudentStatus,
)
from tests.integration.test_match_support import count, created, district, plan, sis


def _link(
    session: Session,
    created_id: int,
    sis_id: int,
    method: LinkMethod = LinkMethod.SSID,
    actor_staff_id: int | None = None,
    batch_id: int | None = None,
) -> LinkOutcome:
    return link_created_record(
        session,
        district_id="17001",
        created_record_id=created_id,
        sis_record_id=sis_id,
        method=method,
        actor_staff_id=actor_staff_id,
        batch_id=batch_id,
    )


def test_a_link_moves_every_plan_retires_the_record_and_audits_it(db_session: Session) -> None:
    d = district(db_session)
    record = created(db_session, d, "Ana", "Reyes", ssid="0123456789")
    target = sis(db_session, d, "Ana", "Reyes", ssid="0123456789")
    plans = [plan(db_session, record), plan(db_session, record)]
    outcome = _link(db_session, record.id, target.id)
    db_session.expire_all()
    assert outcome.plans_moved == 2 and not outcome.already_linked
    assert (outcome.created_record_id, outcome.sis_record_id) == (record.id, target.id)
    assert {db_session.get(LearningPlan, p.id).student_id for p in plans} == {target.id}
    retired = db_session.get(Student, record.id)
    assert retired is not None
    assert (retired.status, retired.merged_into_id) == (StudentStatus.MERGED, target.id)
    assert retired.merged_at is not None
    audit = db_session.scalars(select(LinkAudit)).one()
    assert (audit.created_record_id, audit.sis_record_id, audit.method) == (record.id, target.id, "ssid")
    assert (audit.actor_kind, audit.plans_moved, audit.id) == ("system", 2, outcome.audit_id)
    log = db_session.scalars(select(AuditEntry)).one()
    assert (log.action, log.student_id, log.detail["sis_record_id"]) == ("link", record.id, target.id)
    event = db_session.scalars(select(OutboxEvent)).one()
    assert event.topic == "record_linked"
    assert event.payload == {"created_record_id": record.id, "sis_record_id": target.id, "audit_id": audit.id}


def test_only_a_sis_record_that_receives_a_plan_is_marked_as_having_had_one(db_session: Session) -> None:
    """Linked in one go, the SIS record a plan moved to can no longer be taken for a record never
    used for a plan; the one whose created record had no plan stays unmarked."""
    d = district(db_session)
    with_plan = created(db_session, d, "Ana", "Reyes", ssid="0123456789")
    without = created(db_session, d, "Luis", "Ortiz", ssid="0123456790")
    targets = [
        sis(db_session, d, "Ana", "Reyes", ssid="0123456789"),
        sis(db_session, d, "Luis", "Ortiz", ssid="0123456790"),
    ]
    plan(db_session, with_plan)
    requests = [
        LinkRequest(r.id, t.id, LinkMethod.SSID) for r, t in zip((with_plan, without), targets, strict=True)
    ]
    results = link_created_records(db_session, district_id="17001", requests=requests)
    assert [results[r.id].plans_moved for r in (with_plan, without)] == [1, 0]  # type: ignore[union-attr]
    db_session.expire_all()
    assert [db_session.get(Student, t.id).had_learning_plan for t in targets] == [True, False]  # type: ignore[union-attr]


def test_linking_the_same_pair_twice_changes_nothing_the_second_time(db_session: Session) -> None:
    d = district(db_session)
    record = created(db_session, d, "Ana", "Reyes", ssid="0123456789")
    target = sis(db_session, d, "Ana", "Reyes", ssid="0123456789")
    plan(db_session, record)
    first = _link(db_session, record.id, target.id)
    again = _link(db_session, record.id, target.id)
    assert again.already_linked and again.audit_id == first.audit_id and again.plans_moved == 0
    assert count(db_session, LinkAudit) == 1
    assert count(db_session, AuditEntry) == 1
    assert count(db_session, OutboxEvent) == 1


def test_a_staff_link_names_the_staff_member_and_the_batch_is_kept(db_session: Session) -> None:
    d = district(db_session)
    staff = Staff(district_id=d, name="R", role="registrar", token_hash="x" * 64)
    batch = Batch(district_id=d, source_name="s", location="/in", checksum="c" * 64)
    db_session.add_all([staff, batch])
    db_session.flush()
    record = created(db_session, d, "Ana", "Reyes")
    target = sis(db_session, d, "Ana", "Reyes")
    _link(
        db_session,
        record.id,
        target.id,
        method=LinkMethod.NAME_SEARCH,
        actor_staff_id=staff.id,
        batch_id=batch.id,
    )
    audit = db_session.scalars(select(LinkAudit)).one()
    assert (audit.actor_kind, audit.actor_staff_id, audit.batch_id) == ("staff", staff.id, batch.id)


@pytest.mark.parametrize(
    ("situation", "code"),
    [
        ("merged into another SIS record", "already_linked_elsewhere"),
        ("SIS record inactive", "sis_record_inactive"),
        ("other id contradicts", "ids_contradict"),
        ("SIS record of another district", "sis_record_not_found"),
        ("created record unknown", "created_record_not_found"),
    ],
)
def test_a_link_that_must_not_happen_is_refused_with_its_reason(
    db_session: Session, situation: str, code: str
) -> None:
    d, elsewhere = district(db_session), district(db_session, "27010")
    record = created(db_session, d, "Ana", "Reyes", ssid="0123456789", other_id="S-1")
    target = sis(db_session, d, "Ana", "Reyes", ssid="0123456789")
    created_id, sis_id = record.id, target.id
    if situation == "merged into another SIS record":
        first = sis(db_session, d, "Ana", "Reyes", sis_source_id="other")
        _link(db_session, record.id, first.id, method=LinkMethod.NAME_SEARCH)
    elif situation == "SIS record inactive":
        target.status = StudentStatus.INACTIVE
    elif situation == "other id contradicts":
        target.other_id = "S-2"
    elif situation == "SIS record of another district":
        sis_id = sis(db_session, elsewhere, "Ana", "Reyes", ssid="0123456789").id
    else:
        created_id = record.id + 1000
    db_session.flush()
    plans_before = count(db_session, LinkAudit)
    with pytest.raises(Refusal) as refused:
        _link(db_session, created_id, sis_id)
    assert refused.value.code == code
    assert count(db_session, LinkAudit) == plans_before


def test_a_refusal_message_names_ids_only() -> None:
    refusal = Refusal(RefusalCode.IDS_CONTRADICT, 42)
    assert str(refusal) == "refused: ids_contradict (created record 42)"


def test_the_callers_loaded_records_show_the_merge_without_a_refresh(db_session: Session) -> None:
    d = district(db_session)
    record = created(db_session, d, "Ana", "Reyes", ssid="0123456789")
    target = sis(db_session, d, "Ana", "Reyes", ssid="0123456789")
    started = plan(db_session, record)
    _link(db_session, record.id, target.id)
    assert (record.status, record.merged_into_id) == (StudentStatus.MERGED, target.id)
    assert started.student_id == target.id
