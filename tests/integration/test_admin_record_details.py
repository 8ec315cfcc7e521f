"""Birth date, grade and school on created records through the admin API: saved, checked, kept,
shown in the unlinked table, and used by every match and search (ties broken, surname changes)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from matching.district_pass import match_district
from models import Student
from models.db import get_engine, transaction
from tests.admin_support import TestClient, World, add_student

BORN = "2017-03-14"


def sis(**fields: object) -> int:
    return add_student(get_engine(), "17001", **fields)


def stored(student_id: int) -> Student:
    with Session(get_engine()) as session:
        record = session.get(Student, student_id)
        assert record is not None
        return record


def create(client: TestClient, world: World, **body: object) -> dict[str, object]:
    answer = client.post("/api/students", json=body, headers=world.auth("registrar"))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def two_lena_parks(client: TestClient, world: World) -> tuple[int, dict[str, object], dict[str, object]]:
    """Two SIS namesakes born apart; a created Lena Park typed with the first one's birth date,
    and one typed with names alone."""
    right = sis(sis_source_id="a", first_name="Lena", last_name="Park", birth_date=date(2017, 3, 14))
    sis(sis_source_id="b", first_name="Lena", last_name="Park", birth_date=date(2014, 6, 2))
    typed = create(client, world, first_name="Lena", last_name="Park", birth_date=BORN, school_id="sch-1")
    blind = create(client, world, first_name="Lena", last_name="Park")
    return right, typed, blind


def unlinked_rows(client: TestClient, world: World) -> dict[object, dict[str, object]]:
    table = client.get("/api/unlinked?state=all", headers=world.auth("registrar")).json()
    return {r["created_record_id"]: r for r in table["rows"]}


def test_a_created_record_keeps_the_birth_date_grade_and_school_typed(
    client: TestClient, world: World
) -> None:
    body = create(
        client, world, first_name="Gus", last_name="Haddad", birth_date=BORN, grade="3", school_id="sch-1"
    )
    record = stored(int(str(body["created_record_id"])))
    # the grade kept in the SIS's own code, so "3" and the SIS's "03" are one grade
    assert (record.birth_date, record.grade, record.school_id) == (date(2017, 3, 14), "03", "sch-1")


def test_a_birth_date_grade_or_school_that_cannot_be_right_is_refused_with_its_code(
    client: TestClient, world: World
) -> None:
    base = {"first_name": "Gus", "last_name": "Haddad"}
    for extra, code in (
        ({"birth_date": "2999-01-01"}, "invalid_birth_date"),  # in the future
        ({"birth_date": "1950-01-01"}, "invalid_birth_date"),  # older than any ALE student
        ({"grade": "14"}, "invalid_grade"),
        ({"grade": "sophomore"}, "invalid_grade"),
        ({"school_id": "sch-elsewhere"}, "unknown_school"),  # not a school of the district
    ):
        answer = client.post("/api/students", json=base | extra, headers=world.auth("registrar"))
        assert (answer.status_code, answer.json()["code"]) == (422, code), extra
    garbled = client.post(
        "/api/students", json=base | {"birth_date": "14/03/2017"}, headers=world.auth("registrar")
    )
    assert (garbled.status_code, garbled.json()["fields"]) == (422, ["body.birth_date"])


def test_the_id_editor_changes_the_details_sent_and_keeps_the_others(
    client: TestClient, world: World
) -> None:
    body = create(client, world, first_name="Gus", last_name="Haddad", birth_date=BORN, grade="KG")
    created_id = body["created_record_id"]
    ids_only = client.put(
        f"/api/unlinked/{created_id}/ids", json={"other_id": "S-1"}, headers=world.auth("registrar")
    )
    assert ids_only.status_code == 200
    record = stored(int(str(created_id)))
    assert (record.other_id, record.birth_date, record.grade) == ("S-1", date(2017, 3, 14), "KG")
    client.put(
        f"/api/unlinked/{created_id}/ids",
        json={"other_id": "S-1", "grade": "1", "birth_date": None, "school_id": "sch-1"},
        headers=world.auth("registrar"),
    )
    record = stored(int(str(created_id)))
    assert (record.birth_date, record.grade, record.school_id) == (None, "01", "sch-1")


def test_the_unlinked_table_shows_what_was_typed(client: TestClient, world: World) -> None:
    create(client, world, first_name="Gus", last_name="Haddad", birth_date=BORN, grade="3", school_id="sch-1")
    table = client.get("/api/unlinked?state=all", headers=world.auth("registrar")).json()
    row = table["rows"][0]
    assert (row["birth_date"], row["grade"], row["school"]) == (BORN, "03", "Maple Elementary")


def test_namesakes_are_told_apart_by_the_birth_date_in_the_candidates_field_by_field(
    client: TestClient, world: World
) -> None:
    right = sis(sis_source_id="a", first_name="Gus", last_name="Haddad", birth_date=date(2017, 3, 14))
    sis(sis_source_id="b", first_name="Gus", last_name="Haddad", birth_date=date(2015, 9, 1))
    blind = create(client, world, first_name="Gus", last_name="Haddad")
    typed = create(client, world, first_name="Gus", last_name="Haddad", birth_date=BORN)
    headers = world.auth("registrar")
    tied = client.get(f"/api/unlinked/{blind['created_record_id']}/candidates", headers=headers).json()
    assert [(c["tied"], c["separating_fields"]) for c in tied] == [(True, ["birth date"])] * 2
    ranked = client.get(f"/api/unlinked/{typed['created_record_id']}/candidates", headers=headers).json()
    assert ranked[0]["summary"]["sis_record_id"] == right
    assert not ranked[0]["tied"]
    first, second = ({f["field"]: f["agreement"] for f in c["agreement"]} for c in ranked)
    assert (first["given name"], first["family name"], first["birth date"]) == ("equal", "equal", "equal")
    assert (second["birth date"], second["grade"]) == ("different", "missing")


def test_a_changed_family_name_links_once_the_birth_date_typed_agrees(
    client: TestClient, world: World
) -> None:
    target = sis(
        sis_source_id="a",
        first_name="Maya",
        last_name="Chen",
        ssid="0012345678",
        birth_date=date(2017, 3, 14),
    )
    without = create(client, world, first_name="Maya", last_name="Lopez", ssid="0012345678")
    assert (without["match"], without["hold_reason"]) == ("held", "name_mismatch")
    edited = client.put(
        f"/api/unlinked/{without['created_record_id']}/ids",
        json={"ssid": "0012345678", "birth_date": BORN},
        headers=world.auth("registrar"),
    ).json()
    assert (edited["match"], edited["linked_sis_record_id"]) == ("linked", target)


def test_the_district_pass_suggests_the_namesake_born_on_the_typed_date(
    client: TestClient, world: World
) -> None:
    right, typed, blind = two_lena_parks(client, world)
    with transaction(get_engine()) as session:
        match_district(session, "17001")
    rows = unlinked_rows(client, world)
    assert rows[typed["created_record_id"]]["suggested_sis_record_id"] == right
    assert rows[blind["created_record_id"]]["suggested_sis_record_id"] is None  # two namesakes: no guess


def test_a_record_saved_with_a_birth_date_and_no_ids_is_shown_its_possible_match_at_once(
    client: TestClient, world: World
) -> None:
    """No wait for the next SIS batch: the request itself finds the one Lena Park born that day."""
    right, typed, blind = two_lena_parks(client, world)

    assert (typed["match"], typed["suggested_sis_record_id"]) == ("waiting", right)
    assert (blind["match"], blind["suggested_sis_record_id"]) == ("not_checked", None)
    rows = unlinked_rows(client, world)
    assert rows[typed["created_record_id"]]["suggested_sis_record_id"] == right
    # the details cleared again: back to names alone, the suggestion goes with them
    client.put(
        f"/api/unlinked/{typed['created_record_id']}/ids",
        json={"birth_date": None, "school_id": None},
        headers=world.auth("registrar"),
    )
    rows = unlinked_rows(client, world)
    assert rows[typed["created_record_id"]]["suggested_sis_record_id"] is None
