"""The admin JSON API against real Postgres: roles, district scoping, create, selector, plans, delete."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from config.logging import configure_logging
from matching.core.vocabulary import Topic
from models import AuditAction, AuditEntry, LearningPlan, OutboxEvent, Student
from models.db import get_engine
from tests.admin_support import ELSEWHERE, TestClient, World, add_plan, add_student
from tests.worker_harness import queued_task_names


def audit_actions(engine: Engine, student_id: int) -> list[str]:
    with Session(engine) as session:
        rows = session.execute(select(AuditEntry.action).where(AuditEntry.student_id == student_id)).scalars()
        return [str(a) for a in rows]


def test_health_answers_and_ready_checks_database_and_redis(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok", "redis": "ok"}


def test_openapi_schema_lists_the_staff_actions(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/students",
        "/api/selector/search",
        "/api/students/{student_id}/learning-plans",
        "/api/unlinked",
        "/api/unlinked/{created_record_id}/candidates",
        "/api/unlinked/{created_record_id}/link",
        "/api/unlinked/{created_record_id}/link-by-ssid",
        "/api/unlinked/{created_record_id}/link-by-other-id",
        "/api/unlinked/{created_record_id}/dismiss",
        "/api/held",
        "/api/students/{student_id}/links",
        "/health",
        "/ready",
    ):
        assert path in paths
    assert "/login" not in paths


def test_a_request_without_a_valid_token_is_refused_and_logged_without_the_token(client: TestClient) -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream)
    assert client.get("/api/unlinked").status_code == 401
    bad = client.get("/api/unlinked", headers={"Authorization": "Bearer not-a-real-token-0123456789"})
    assert bad.status_code == 401
    assert bad.json()["code"] == "not_authenticated"
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    denied = [line for line in lines if line["event"] == "admin_access_denied"]
    assert [d["reason"] for d in denied] == ["no_token", "unknown_or_revoked_token"]
    assert "not-a-real-token" not in stream.getvalue()
    assert client.get("/selector-for/Ava-Nguyen").status_code == 404  # a path no route knows
    server_lines = [line for line in stream.getvalue().splitlines() if '"logger": "admin.' in line]
    assert server_lines
    assert not [line for line in server_lines if "Nguyen" in line]


def test_a_teacher_may_use_the_selector_but_not_create_link_or_delete(
    client: TestClient, world: World
) -> None:
    created = add_student(_engine(), first_name="Kim", last_name="Lee")
    teacher = world.auth("teacher")
    stream = io.StringIO()
    configure_logging("json", "INFO", stream)
    assert (
        client.post("/api/students", json={"first_name": "A", "last_name": "B"}, headers=teacher).status_code
        == 403
    )
    assert client.get("/api/unlinked", headers=teacher).status_code == 403
    assert client.delete(f"/api/unlinked/{created}", headers=teacher).status_code == 403
    assert (
        client.post(f"/api/unlinked/{created}/link", json={"sis_record_id": 1}, headers=teacher).status_code
        == 403
    )
    found = client.post("/api/selector/search", json={"query": "lee k"}, headers=teacher)
    assert [r["student_id"] for r in found.json()["rows"]] == [created]
    plan = client.post(f"/api/students/{created}/learning-plans", headers=teacher)
    assert plan.status_code == 201
    denied = [json.loads(line) for line in stream.getvalue().splitlines() if "admin_access_denied" in line]
    assert {(d["reason"], d["staff_id"]) for d in denied} == {("role", world.staff_ids["teacher"])}
    assert len(denied) == 4
    assert "Kim" not in stream.getvalue()


def _engine() -> Engine:
    return get_engine()


def test_a_registrar_creates_a_student_with_names_only_and_it_is_audited(
    client: TestClient, world: World
) -> None:
    answer = client.post(
        "/api/students",
        json={"first_name": "  Noah ", "last_name": "Okafor"},
        headers=world.auth("registrar"),
    )
    assert answer.status_code == 201
    body = answer.json()
    assert body["match"] == "not_checked"
    with Session(_engine()) as session:
        record = session.get(Student, body["created_record_id"])
        assert record is not None
        assert (record.first_name, record.last_name, record.created_by_staff_id) == (
            "Noah",
            "Okafor",
            world.staff_ids["registrar"],
        )
        events = session.execute(select(func.count()).select_from(OutboxEvent)).scalar_one()
    assert events == 0  # nothing to match without an id
    assert audit_actions(_engine(), body["created_record_id"]) == [AuditAction.CREATE]


def test_create_names_the_districts_students_of_the_same_or_a_very_like_name(
    client: TestClient, world: World
) -> None:
    """As the create form warns before saving, the API's answer lists who was already there: SIS
    and created records of this district with the same name, a nickname or the names swapped, never
    the record just saved nor a student of another district."""
    engine = _engine()
    sis = add_student(
        engine, sis_source_id="s-1", first_name="William", last_name="Okafor", ssid="5512345678"
    )
    swapped = add_student(engine, first_name="Okafor", last_name="Bill")
    add_student(engine, ELSEWHERE, sis_source_id="s-1", first_name="Bill", last_name="Okafor")
    add_student(engine, sis_source_id="s-2", first_name="Noah", last_name="Okafor")  # a brother

    def create(first: str, last: str) -> tuple[int, dict[int, dict[str, str]]]:
        answer = client.post(
            "/api/students", json={"first_name": first, "last_name": last}, headers=world.auth("registrar")
        )
        assert answer.status_code == 201, answer.text
        body = answer.json()
        return body["created_record_id"], {s["student_id"]: s for s in body["similar_students"]}

    first, listed = create("Bill", "Okafor")
    assert sorted(listed) == sorted([sis, swapped])
    assert listed[sis]["origin"] == "sis" and listed[sis]["ssid_masked"] != "5512345678"
    assert first in create("Bill", "Okafor")[1]
    assert create("Zora", "Quist")[1] == {}


def test_a_student_linked_on_save_has_its_event_published_right_after_the_answer(
    client: TestClient, world: World, redis_url: str, redis_client: object
) -> None:
    add_student(_engine(), sis_source_id="s-1", first_name="Noah", last_name="Okafor", ssid="5512345678")
    answer = client.post(
        "/api/students",
        json={"first_name": "Noah", "last_name": "Okafor", "ssid": "5512345678"},
        headers=world.auth("registrar"),
    )
    assert (answer.status_code, answer.json()["match"]) == (201, "linked")
    assert queued_task_names(redis_url) == []  # matched in the request: no second match queued
    with Session(_engine()) as session:
        events = session.execute(select(OutboxEvent.topic, OutboxEvent.published_at)).all()
    assert [(topic, published is not None) for topic, published in events] == [(Topic.RECORD_LINKED, True)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"last_name": "Okafor"}, "body.first_name"),  # first name missing
        ({"first_name": "Noah", "last_name": ""}, "body.last_name"),  # last name empty
    ],
)
def test_create_refuses_a_missing_name(
    client: TestClient, world: World, body: dict[str, str], field: str
) -> None:
    answer = client.post("/api/students", json=body, headers=world.auth("secretary"))
    assert answer.status_code == 422
    assert answer.json()["fields"] == [field]


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"first_name": "   "}, "first_name_required"),  # only spaces
        ({"ssid": "12345"}, "invalid_ssid"),  # too short for the state's pattern
        ({"ssid": "12345678AB"}, "invalid_ssid"),  # letters
        ({"other_id": "12\t34"}, "invalid_other_id"),  # a control character (a tab) inside
        ({"ssid": "١٢٣٤٥٦٧٨٩٠"}, "invalid_ssid"),  # digits, but not 0-9 (the ingest refuses them too)
    ],
)
def test_create_validates_names_and_ids(
    client: TestClient, world: World, extra: dict[str, str], code: str
) -> None:
    body = {"first_name": "Noah", "last_name": "Okafor", **extra}
    answer = client.post("/api/students", json=body, headers=world.auth("secretary"))
    assert answer.status_code == 422
    assert answer.json()["code"] == code
    with Session(_engine()) as session:
        assert session.execute(select(func.count()).select_from(Student)).scalar_one() == 0


def test_the_selector_shows_both_origins_and_pages(client: TestClient, world: World) -> None:
    sis = add_student(
        _engine(), sis_source_id="s-1", first_name="Maya", last_name="Garcia", grade="3", school_id="sch-1"
    )
    created = add_student(_engine(), first_name="Mateo", last_name="Garcia")
    add_student(_engine(), first_name="Maya", last_name="Brown")
    add_student(_engine(), ELSEWHERE, first_name="Mary", last_name="Garcia")
    add_student(_engine(), sis_source_id="s-2", first_name="Mia", last_name="Garcia", status="inactive")
    first = client.post(
        "/api/selector/search", json={"query": "garcia", "page_size": 1}, headers=world.auth("teacher")
    ).json()
    assert (first["has_more"], first["total"], first["total_exact"]) == (True, 2, True)
    second = client.post(
        "/api/selector/search",
        json={"query": "garcia", "after": first["next_after"], "page_size": 1},
        headers=world.auth("teacher"),
    ).json()
    assert (second["has_more"], second["next_after"]) == (False, None)
    rows = first["rows"] + second["rows"]
    assert [(r["student_id"], r["origin"]) for r in rows] == [(created, "created"), (sis, "sis")]
    assert rows[1]["school"] == "Maple Elementary"
    narrowed = client.post(
        "/api/selector/search", json={"query": "ma gar"}, headers=world.auth("teacher")
    ).json()
    assert {r["student_id"] for r in narrowed["rows"]} == {sis, created}
    by_first_name_only = client.post(
        "/api/selector/search", json={"query": "maya"}, headers=world.auth("teacher")
    )
    assert [r["last_name"] for r in by_first_name_only.json()["rows"]] == ["Brown", "Garcia"]
    accented = client.post(
        "/api/selector/search", json={"query": "GARCÍA, mat"}, headers=world.auth("teacher")
    )
    assert [r["student_id"] for r in accented.json()["rows"]] == [created]


def test_a_query_read_only_one_way_answers_like_any_other(client: TestClient, world: World) -> None:
    # two one-letter words make one reading only (surname "oo"); the page's own ORDER BY and LIMIT
    # must then not collide with the outer ones (it answered 500 once)
    found = add_student(_engine(), sis_source_id="s-oo", first_name="Ava", last_name="Oort")
    add_student(_engine(), sis_source_id="s-op", first_name="Ava", last_name="Opal")
    for query in ("o o", "\u00f5_\u00b5\u00d4\ucd4b"):
        answer = client.post("/api/selector/search", json={"query": query}, headers=world.auth("teacher"))
        assert answer.status_code == 200, answer.text
        assert [r["student_id"] for r in answer.json()["rows"]] == [found]


@pytest.mark.parametrize(
    ("first_name", "last_name", "query"),
    [
        ("Thị Ánh", "Nguyễn", "nguyen thi"),  # letters past Latin Extended-A
        ("Ștefan", "Dăscălescu", "dascalescu stef"),
        ("Łucja", "Ørsted", "orsted lu"),  # letters that do not decompose
        ("Zoë", "de la Cruz", "Delacruz zoe"),
    ],
)
def test_the_selector_finds_names_written_without_their_accents(
    client: TestClient, world: World, first_name: str, last_name: str, query: str
) -> None:
    student = add_student(_engine(), first_name=first_name, last_name=last_name)
    add_student(_engine(), first_name="Ana", last_name=last_name)  # the same surname, another given name

    answer = client.post("/api/selector/search", json={"query": query}, headers=world.auth("teacher"))

    assert [r["student_id"] for r in answer.json()["rows"]] == [student]


def test_a_selector_search_with_only_punctuation_is_refused(client: TestClient, world: World) -> None:
    answer = client.post("/api/selector/search", json={"query": " , "}, headers=world.auth("teacher"))
    assert answer.status_code == 422
    assert answer.json()["code"] == "query_required"


def test_initiating_a_plan_twice_keeps_one_plan_and_audits_once(client: TestClient, world: World) -> None:
    created = add_student(_engine(), first_name="Kim", last_name="Lee")
    first = client.post(f"/api/students/{created}/learning-plans", headers=world.auth("teacher"))
    again = client.post(f"/api/students/{created}/learning-plans", headers=world.auth("registrar"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["plan_id"] == first.json()["plan_id"]
    assert again.json()["started"] is False
    with Session(_engine()) as session:
        plans = session.execute(select(LearningPlan.student_id)).scalars().all()
        assert plans == [created]
        assert session.get(Student, created).had_learning_plan  # type: ignore[union-attr]
    assert audit_actions(_engine(), created) == [AuditAction.INITIATE_PLAN]


def test_an_id_from_another_district_answers_404_everywhere(client: TestClient, world: World) -> None:
    theirs = add_student(_engine(), ELSEWHERE, first_name="Kim", last_name="Lee")
    mine = world.auth("registrar")
    assert client.post(f"/api/students/{theirs}/learning-plans", headers=mine).status_code == 404
    assert client.delete(f"/api/unlinked/{theirs}", headers=mine).status_code == 404
    assert client.get(f"/api/unlinked/{theirs}/candidates", headers=mine).status_code == 404
    assert client.get(f"/api/students/{theirs}/links", headers=mine).status_code == 404
    assert (
        client.post(f"/api/unlinked/{theirs}/link", json={"sis_record_id": theirs}, headers=mine).status_code
        == 404
    )
    assert client.get("/api/unlinked", headers=mine).json()["total"] == 0
    assert client.post("/api/selector/search", json={"query": "lee"}, headers=mine).json()["rows"] == []
    with Session(_engine()) as session:
        assert session.execute(select(func.count()).select_from(LearningPlan)).scalar_one() == 0
        assert session.get(Student, theirs) is not None


def test_delete_removes_an_unused_record_and_audits_it(client: TestClient, world: World) -> None:
    created = add_student(_engine(), first_name="Kim", last_name="Lee")
    assert client.delete(f"/api/unlinked/{created}", headers=world.auth("secretary")).status_code == 204
    with Session(_engine()) as session:
        assert session.get(Student, created) is None
        entry = session.execute(select(AuditEntry).where(AuditEntry.student_id == created)).scalar_one()
    assert (entry.action, entry.actor_staff_id) == (AuditAction.DELETE, world.staff_ids["secretary"])
    assert client.delete(f"/api/unlinked/{created}", headers=world.auth("secretary")).status_code == 404


def test_delete_answers_409_once_a_learning_plan_was_created_on_the_record(
    client: TestClient, world: World
) -> None:
    created = add_student(_engine(), first_name="Kim", last_name="Lee")
    add_plan(_engine(), created)
    answer = client.delete(f"/api/unlinked/{created}", headers=world.auth("registrar"))
    assert answer.status_code == 409
    assert answer.json()["code"] == "has_learning_plan"
    with Session(_engine()) as session:
        assert session.get(Student, created) is not None
    assert audit_actions(_engine(), created) == []


def test_the_unlinked_table_shows_who_created_each_record_and_whether_it_has_a_plan(
    client: TestClient, world: World
) -> None:
    older = add_student(_engine(), first_name="Kim", last_name="Lee", ssid="0012345678", other_id="A-1")
    add_plan(_engine(), older)
    client.post(
        "/api/students", json={"first_name": "Noah", "last_name": "Okafor"}, headers=world.auth("secretary")
    )
    add_student(_engine(), sis_source_id="s-1", first_name="Sis", last_name="Only")
    newest_first = {"sort": "newest"}
    table = client.get(
        "/api/unlinked", params={"page_size": 10, **newest_first}, headers=world.auth("registrar")
    ).json()
    assert table["total"] == 2
    past_the_end = client.get(
        "/api/unlinked", params={"page": 3, "page_size": 1, **newest_first}, headers=world.auth("registrar")
    )
    assert (past_the_end.json()["rows"], past_the_end.json()["total"]) == ([], 2)
    second = client.get(
        "/api/unlinked", params={"page": 2, "page_size": 1, **newest_first}, headers=world.auth("registrar")
    )
    assert (second.json()["rows"][0]["created_record_id"], second.json()["total"]) == (older, 2)
    by_id = {r["created_record_id"]: r for r in table["rows"]}
    row = by_id[older]
    assert (row["ssid_masked"], row["other_id"], row["has_plan"], row["status"]) == (
        "******5678",
        "A-1",
        True,
        "waiting",
    )
    newest = table["rows"][0]
    assert (newest["last_name"], newest["created_by"], newest["has_plan"]) == (
        "Okafor",
        "Sam Secretary",
        False,
    )


def test_every_answer_is_marked_no_store(client: TestClient, world: World) -> None:
    for answer in (
        client.get("/api/unlinked", headers=world.auth("registrar")),
        client.get("/health"),
        client.get("/login"),
        client.get("/api/unlinked"),
    ):
        assert answer.headers["cache-control"] == "no-store"
