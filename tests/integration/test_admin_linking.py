"""Linking through the admin API: at once on save, by name search, by SSID, by Other ID; holds, dismissals."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.core.vocabulary import Topic
from matching.district_pass import match_district
from models import AuditAction, AuditEntry, LearningPlan, LinkAudit, OutboxEvent, Student, StudentStatus
from models.db import get_engine, transaction
from tests.admin_support import ELSEWHERE, TestClient, World, add_plan, add_student


def sis(district: str = "17001", **fields: object) -> int:
    return add_student(get_engine(), district, **fields)


def student(student_id: int) -> Student:
    with Session(get_engine()) as session:
        record = session.get(Student, student_id)
        assert record is not None
        return record


def unlinked_ids(client: TestClient, world: World) -> list[int]:
    table = client.get("/api/unlinked", headers=world.auth("registrar")).json()
    return [r["created_record_id"] for r in table["rows"]]


def test_a_student_saved_with_an_ssid_links_at_once_when_the_sis_has_them(
    client: TestClient, world: World
) -> None:
    target = sis(sis_source_id="s-1", first_name="Ava", last_name="Nguyen", ssid="0012345678")
    answer = client.post(
        "/api/students",
        json={"first_name": "Ava", "last_name": "Nguyen", "ssid": "0012345678"},
        headers=world.auth("registrar"),
    )
    body = answer.json()
    assert (answer.status_code, body["match"], body["linked_sis_record_id"]) == (201, "linked", target)
    assert student(body["created_record_id"]).merged_into_id == target
    assert unlinked_ids(client, world) == []
    with Session(get_engine()) as session:
        topics = session.execute(select(OutboxEvent.topic).order_by(OutboxEvent.id)).scalars().all()
    assert topics == [Topic.RECORD_LINKED]  # matched in the save's transaction: nothing left to ask


def test_a_student_saved_with_an_unknown_id_waits_for_the_district_pass(
    client: TestClient, world: World
) -> None:
    answer = client.post(
        "/api/students",
        json={"first_name": "Ava", "last_name": "Nguyen", "other_id": "S-77"},
        headers=world.auth("secretary"),
    ).json()
    assert answer["match"] == "waiting"
    with Session(get_engine()) as session:
        events = session.execute(select(OutboxEvent)).scalars().all()
    assert events == []
    assert unlinked_ids(client, world) == [answer["created_record_id"]]
    target = sis(sis_source_id="s-77", first_name="Ava", last_name="Nguyen", other_id="S-77")
    with transaction(get_engine()) as session:
        match_district(session, "17001")  # as after the batch that brings S-77
    assert student(answer["created_record_id"]).merged_into_id == target


def test_an_ssid_that_hits_a_child_with_another_name_is_held_and_listed(
    client: TestClient, world: World
) -> None:
    other_child = sis(
        sis_source_id="s-1",
        first_name="Zachary",
        last_name="Whitfield",
        ssid="0012345678",
        grade="4",
        school_id="sch-1",
    )
    answer = client.post(
        "/api/students",
        json={"first_name": "Ava", "last_name": "Nguyen", "ssid": "0012345678"},
        headers=world.auth("registrar"),
    ).json()
    assert (answer["match"], answer["hold_reason"]) == ("held", "name_mismatch")
    held = client.get("/api/held", headers=world.auth("registrar")).json()
    assert held["total"] == 1
    assert [(h["created_record_id"], h["hold_reason"], h["status"]) for h in held["rows"]] == [
        (answer["created_record_id"], "name_mismatch", "held")
    ]
    [pointed] = held["rows"][0]["pointed_at"]
    assert (pointed["student"]["sis_record_id"], pointed["shares"]) == (other_child, ["SSID"])
    assert (pointed["student"]["ssid_masked"], pointed["student"]["school"]) == (
        "******5678",
        "Maple Elementary",
    )
    row = client.get("/api/unlinked", headers=world.auth("registrar")).json()["rows"][0]
    assert (row["status"], row["hold_reason"]) == ("held", "name_mismatch")
    assert client.get("/api/held", headers=world.auth("elsewhere")).json()["rows"] == []


def test_name_search_ranks_sis_students_with_what_a_registrar_needs_to_choose(
    client: TestClient, world: World
) -> None:
    best = sis(
        sis_source_id="s-1",
        first_name="Ava",
        last_name="Nguyen",
        ssid="0012347890",
        birth_date=date(2020, 5, 1),
        grade="K",
        school_id="sch-1",
    )
    sis(sis_source_id="s-2", first_name="Avery", last_name="Nguyen")
    sis(ELSEWHERE, sis_source_id="s-1", first_name="Ava", last_name="Nguyen")
    created = add_student(get_engine(), first_name="Ava", last_name="Nguyen")
    answer = client.get(f"/api/unlinked/{created}/candidates", headers=world.auth("registrar"))
    ranked = answer.json()
    assert ranked[0]["summary"] == {
        "sis_record_id": best,
        "first_name": "Ava",
        "last_name": "Nguyen",
        "ssid_masked": "******7890",
        "birth_date": "2020-05-01",
        "grade": "K",
        "school": "Maple Elementary",
    }
    assert ranked[0]["reasons"]
    assert ranked[0]["score"] >= ranked[-1]["score"]
    with Session(get_engine()) as session:
        theirs = session.execute(select(Student.id).where(Student.district_id == ELSEWHERE)).scalars().all()
    assert not {c["summary"]["sis_record_id"] for c in ranked} & set(theirs)
    assert "0012347890" not in answer.text


def test_linking_by_name_moves_the_plan_and_the_record_leaves_the_table(
    client: TestClient, world: World
) -> None:
    target = sis(sis_source_id="s-1", first_name="Ava", last_name="Nguyen")
    created = add_student(get_engine(), first_name="Ava", last_name="Nguyen")
    plan = add_plan(get_engine(), created)
    answer = client.post(
        f"/api/unlinked/{created}/link", json={"sis_record_id": target}, headers=world.auth("secretary")
    )
    body = answer.json()
    assert (answer.status_code, body["plans_moved"], body["already_linked"]) == (200, 1, False)
    assert unlinked_ids(client, world) == []
    with Session(get_engine()) as session:
        assert session.get(LearningPlan, plan).student_id == target  # type: ignore[union-attr]
    assert (student(created).status, student(created).merged_into_id) == (StudentStatus.MERGED, target)
    history = client.get(f"/api/students/{target}/links", headers=world.auth("registrar")).json()
    assert [(h["created_record_id"], h["method"], h["linked_by"]) for h in history] == [
        (created, "name_search", "Sam Secretary")
    ]
    again = client.post(
        f"/api/unlinked/{created}/link", json={"sis_record_id": target}, headers=world.auth("secretary")
    )
    assert (again.status_code, again.json()["already_linked"], again.json()["audit_id"]) == (
        200,
        True,
        body["audit_id"],
    )
    with Session(get_engine()) as session:
        links = (
            session.execute(select(AuditEntry).where(AuditEntry.action == AuditAction.LINK)).scalars().all()
        )
    assert [(e.student_id, e.actor_staff_id) for e in links] == [(created, world.staff_ids["secretary"])]


def test_an_sis_record_another_created_record_was_merged_into_answers_409(
    client: TestClient, world: World
) -> None:
    target = sis(sis_source_id="s-1", first_name="Ava", last_name="Nguyen", ssid="0012345678", other_id="N-1")
    first = add_student(get_engine(), first_name="Ava", last_name="Nguyen")
    second = add_student(get_engine(), first_name="Ava", last_name="Nguyen")
    manager = world.auth("registrar")
    assert (
        client.post(
            f"/api/unlinked/{first}/link", json={"sis_record_id": target}, headers=manager
        ).status_code
        == 200
    )
    for path, body in (
        ("link", {"sis_record_id": target}),
        ("link-by-ssid", {"ssid": "0012345678"}),
        ("link-by-other-id", {"other_id": "N-1"}),
    ):
        answer = client.post(f"/api/unlinked/{second}/{path}", json=body, headers=manager)
        assert (answer.status_code, answer.json()["code"]) == (409, "sis_record_taken")
    assert student(second).status == StudentStatus.ACTIVE


def test_link_by_ssid_answers_404_for_an_unknown_ssid_and_links_a_known_one(
    client: TestClient, world: World
) -> None:
    target = sis(sis_source_id="s-1", first_name="Ava", last_name="Nguyen", ssid="0012345678")
    sis(ELSEWHERE, sis_source_id="s-9", first_name="Ava", last_name="Nguyen", ssid="0099999999")
    created = add_student(get_engine(), first_name="Ava", last_name="Nguyen")
    manager = world.auth("registrar")
    missing = client.post(
        f"/api/unlinked/{created}/link-by-ssid", json={"ssid": "0099999999"}, headers=manager
    )
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    malformed = client.post(f"/api/unlinked/{created}/link-by-ssid", json={"ssid": "12"}, headers=manager)
    assert (malformed.status_code, malformed.json()["code"]) == (422, "invalid_ssid")
    linked = client.post(
        f"/api/unlinked/{created}/link-by-ssid", json={"ssid": "0012345678"}, headers=manager
    )
    assert (linked.status_code, linked.json()["sis_record_id"]) == (200, target)
    with Session(get_engine()) as session:
        method = session.execute(select(LinkAudit.method)).scalar_one()
    assert method == "manual_ssid"


def test_link_by_other_id_answers_422_when_the_records_ssid_contradicts(
    client: TestClient, world: World
) -> None:
    sis(sis_source_id="s-1", first_name="Ava", last_name="Nguyen", ssid="0012345678", other_id="N-1")
    created = add_student(get_engine(), first_name="Ava", last_name="Nguyen", ssid="0087654321")
    answer = client.post(
        f"/api/unlinked/{created}/link-by-other-id", json={"other_id": "N-1"}, headers=world.auth("registrar")
    )
    assert (answer.status_code, answer.json()["code"]) == (422, "ids_contradict")
    assert student(created).status == StudentStatus.ACTIVE
    unknown = client.post(
        f"/api/unlinked/{created}/link-by-other-id",
        json={"other_id": "N-404"},
        headers=world.auth("registrar"),
    )
    assert unknown.status_code == 404


def test_a_dismissed_suggestion_is_gone_from_the_table_and_audited(client: TestClient, world: World) -> None:
    near = sis(sis_source_id="s-1", first_name="Ava", last_name="Nguyen", ssid="0012345678")
    created = client.post(
        "/api/students",
        json={"first_name": "Ava", "last_name": "Nguyen", "ssid": "0012345687"},  # two digits swapped
        headers=world.auth("registrar"),
    ).json()["created_record_id"]
    row = client.get("/api/unlinked", headers=world.auth("registrar")).json()["rows"][0]
    assert (row["status"], row["suggested_sis_record_id"]) == ("suggested", near)
    answer = client.post(
        f"/api/unlinked/{created}/dismiss", json={"sis_record_id": near}, headers=world.auth("registrar")
    )
    assert answer.status_code == 204
    row = client.get("/api/unlinked", headers=world.auth("registrar")).json()["rows"][0]
    assert (row["status"], row["suggested_sis_record_id"]) == ("waiting", None)
    with Session(get_engine()) as session:
        actions = (
            session.execute(select(AuditEntry.action).where(AuditEntry.student_id == created)).scalars().all()
        )
    assert AuditAction.DISMISS_SUGGESTION in actions


def test_a_linked_record_cannot_be_deleted_or_get_a_plan(client: TestClient, world: World) -> None:
    target = sis(sis_source_id="s-1", first_name="Ava", last_name="Nguyen")
    created = add_student(get_engine(), first_name="Ava", last_name="Nguyen")
    client.post(
        f"/api/unlinked/{created}/link", json={"sis_record_id": target}, headers=world.auth("registrar")
    )
    assert client.delete(f"/api/unlinked/{created}", headers=world.auth("registrar")).status_code == 404
    assert (
        client.post(f"/api/students/{created}/learning-plans", headers=world.auth("teacher")).status_code
        == 404
    )
    assert (
        client.post(f"/api/students/{target}/learning-plans", headers=world.auth("teacher")).status_code
        == 201
    )


def test_ids_entered_later_on_an_unlinked_record_are_audited_and_matched_at_once(
    client: TestClient, world: World
) -> None:
    target = sis(sis_source_id="s-1", first_name="Ava", last_name="Nguyen", ssid="0012345678")
    created = add_student(get_engine(), first_name="Ava", last_name="Nguyen")
    manager = world.auth("registrar")
    wrong = client.put(f"/api/unlinked/{created}/ids", json={"ssid": "12"}, headers=manager)
    assert (wrong.status_code, wrong.json()["code"]) == (422, "invalid_ssid")
    teacher = client.put(
        f"/api/unlinked/{created}/ids", json={"ssid": "0012345678"}, headers=world.auth("teacher")
    )
    assert teacher.status_code == 403
    elsewhere = client.put(
        f"/api/unlinked/{created}/ids", json={"ssid": "0012345678"}, headers=world.auth("elsewhere")
    )
    assert elsewhere.status_code == 404
    assert student(created).status == StudentStatus.ACTIVE
    edited = client.put(f"/api/unlinked/{created}/ids", json={"ssid": "0012345678"}, headers=manager)
    assert edited.status_code == 200
    assert (edited.json()["match"], edited.json()["linked_sis_record_id"]) == ("linked", target)
    assert student(created).merged_into_id == target
    with Session(get_engine()) as session:
        actions = session.execute(
            select(AuditEntry.action).where(AuditEntry.student_id == created).order_by(AuditEntry.id)
        ).scalars()
        topics = session.execute(select(OutboxEvent.topic).order_by(OutboxEvent.id)).scalars()
        assert AuditAction.EDIT_IDS in list(actions)
        assert list(topics) == [Topic.RECORD_LINKED]
    again = client.put(f"/api/unlinked/{created}/ids", json={"ssid": "0012345678"}, headers=manager)
    assert again.status_code == 404  # merged: no longer in the unlinked table
