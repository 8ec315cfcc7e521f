"""Link Student to ALE over the JSON API: each record's state, the counts per state, the filters,
the names box, sort, keyset pages both ways, held records with totals, Recently linked and the
sync summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from models import Batch, BatchStatus
from models.db import get_engine
from tests.admin_support import HOME, TestClient, World, add_plan, add_student


def _engine() -> Engine:
    return get_engine()


def create(client: TestClient, world: World, first: str, last: str, **ids: str) -> int:
    answer = client.post(
        "/api/students", json={"first_name": first, "last_name": last, **ids}, headers=world.auth("registrar")
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["created_record_id"])


def table(client: TestClient, world: World, **params: object) -> dict:
    answer = client.get("/api/unlinked", params=params, headers=world.auth("registrar"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def one_in_each_state(client: TestClient, world: World) -> dict[str, int]:
    add_student(
        _engine(), sis_source_id="s-1", first_name="Zachary", last_name="Whitfield", ssid="0012345678"
    )
    add_student(_engine(), sis_source_id="s-2", first_name="Quinn", last_name="Abbott", ssid="0012345699")
    return {
        "held": create(client, world, "Nora", "Abbott", ssid="0012345678"),  # another child's SSID
        "suggested": create(client, world, "Quinn", "Abbott", ssid="0012345969"),  # two digits swapped
        "waiting": create(client, world, "Sven", "Abbott", ssid="0099999999"),
        "no_id": create(client, world, "Rosa", "Abbott"),
    }


def test_each_record_is_in_one_state_and_the_counts_add_up(client: TestClient, world: World) -> None:
    ids = one_in_each_state(client, world)
    everything = table(client, world)
    assert {r["created_record_id"]: r["status"] for r in everything["rows"]} == {v: k for k, v in ids.items()}
    assert everything["counts"] == {
        "held": 1, "suggested": 1, "no_id": 1, "waiting": 1, "needs_person": 3, "all": 4,
    }  # fmt: skip
    needs = table(client, world, state="needs_person")
    assert [r["created_record_id"] for r in needs["rows"]] == [ids["held"], ids["suggested"], ids["no_id"]]
    assert needs["total"] == 3
    for state in ("held", "suggested", "no_id", "waiting"):
        only = table(client, world, state=state)
        assert ([r["created_record_id"] for r in only["rows"]], only["total"]) == ([ids[state]], 1)


def test_the_counts_follow_a_fix_and_a_dismissal(client: TestClient, world: World) -> None:
    ids = one_in_each_state(client, world)
    client.put(
        f"/api/unlinked/{ids['held']}/ids", json={"ssid": "0088888888"}, headers=world.auth("registrar")
    )
    sis_id = table(client, world, state="suggested")["rows"][0]["suggested_sis_record_id"]
    client.post(
        f"/api/unlinked/{ids['suggested']}/dismiss",
        json={"sis_record_id": sis_id},
        headers=world.auth("registrar"),
    )
    assert table(client, world)["counts"] == {
        "held": 0, "suggested": 0, "no_id": 1, "waiting": 3, "needs_person": 1, "all": 4,
    }  # fmt: skip


def test_pages_go_forward_and_back_by_cursor_in_either_order(client: TestClient, world: World) -> None:
    made = [create(client, world, first, "Lee") for first in ("Ann", "Ben", "Cai", "Dov", "Eve")]
    first = table(client, world, page_size=2)
    assert [r["created_record_id"] for r in first["rows"]] == made[:2]
    assert first["previous_before"] is None
    second = table(client, world, page_size=2, after=first["next_after"])
    assert [r["created_record_id"] for r in second["rows"]] == made[2:4]
    last = table(client, world, page_size=2, after=second["next_after"])
    assert ([r["created_record_id"] for r in last["rows"]], last["next_after"]) == (made[4:], None)
    back = table(client, world, page_size=2, before=last["previous_before"])
    assert [r["created_record_id"] for r in back["rows"]] == made[2:4]
    newest = table(client, world, page_size=3, sort="newest")
    assert [r["created_record_id"] for r in newest["rows"]] == made[:1:-1]
    assert all(page["total"] == 5 for page in (first, second, last, back, newest))
    assert (
        client.get("/api/unlinked", params={"after": "x"}, headers=world.auth("registrar")).status_code == 422
    )


def test_the_names_box_finds_records_by_either_name_with_or_without_particles(
    client: TestClient, world: World
) -> None:
    santos = create(client, world, "Maria", "De los Santos")
    obrien = create(client, world, "Sean", "O'Brien")
    create(client, world, "Ana", "Lee")
    add_student(_engine(), sis_source_id="s-1", first_name="Maria", last_name="Santos")  # not in the table

    def found(names: str) -> list[int]:
        answer = client.post("/api/unlinked/search", json={"names": names}, headers=world.auth("registrar"))
        rows = [r["created_record_id"] for r in answer.json()["rows"]]
        assert answer.json()["total"] == len(rows)
        return rows

    assert found("santos") == [santos]
    assert found("de los santos") == [santos]
    assert found("maria") == [santos]
    assert found("o'brien") == found("obrien") == [obrien]
    assert found("zzz") == []


def test_held_records_page_with_a_total_and_name_both_students_of_disagreeing_ids(
    client: TestClient, world: World
) -> None:
    by_ssid = add_student(
        _engine(), sis_source_id="s-1", first_name="Otto", last_name="Abbott", ssid="0012345678"
    )
    by_other = add_student(
        _engine(), sis_source_id="s-2", first_name="Otto", last_name="Brandt", other_id="O-4"
    )
    held = create(client, world, "Otto", "Abbott", ssid="0012345678", other_id="O-4")
    first = client.get("/api/held", params={"page_size": 1}, headers=world.auth("registrar")).json()
    assert (first["total"], first["rows"][0]["created_record_id"], first["rows"][0]["hold_reason"]) == (
        1, held, "ids_disagree",
    )  # fmt: skip
    pointed = {p["student"]["sis_record_id"]: p["shares"] for p in first["rows"][0]["pointed_at"]}
    assert pointed == {by_ssid: ["SSID"], by_other: ["Other ID"]}


def test_delete_is_offered_only_while_no_plan_was_started(client: TestClient, world: World) -> None:
    planned = create(client, world, "Tove", "Lee")
    add_plan(_engine(), planned)
    plain = create(client, world, "Rosa", "Lee")
    rows = {r["created_record_id"]: r for r in table(client, world)["rows"]}
    assert (rows[planned]["can_delete"], rows[plain]["can_delete"]) == (False, True)


def test_recently_linked_names_both_records_and_who_linked(client: TestClient, world: World) -> None:
    sis = add_student(_engine(), sis_source_id="s-1", first_name="Ava", last_name="Nguyen", ssid="0012345678")
    linked = create(client, world, "Ava", "Nguyen", ssid="0012345678")  # links at once, automatically
    by_hand = create(client, world, "Kim", "Lee")
    kim = add_student(_engine(), sis_source_id="s-2", first_name="Kim", last_name="Lee")
    client.post(f"/api/unlinked/{by_hand}/link", json={"sis_record_id": kim}, headers=world.auth("registrar"))
    recent = client.get("/api/links/recent", headers=world.auth("registrar")).json()
    assert recent["total"] == 2
    assert [
        (r["created_record_id"], r["sis_record_id"], r["linked_by"], r["how"]) for r in recent["rows"]
    ] == [
        (by_hand, kim, "Rita Registrar", "By name search"),
        (linked, sis, "Automatic", "Automatically, by SSID"),
    ]
    assert client.get("/api/links/recent", headers=world.auth("elsewhere")).json()["total"] == 0


def test_the_sync_summary_says_what_the_last_delivery_did_and_whether_one_waits_for_ops(
    client: TestClient, world: World
) -> None:
    never = client.get("/api/sync-summary", headers=world.auth("registrar")).json()
    assert never["state"] == "never"
    now = datetime.now(UTC)
    with Session(_engine()) as session, session.begin():
        session.add(
            Batch(
                district_id=HOME, source_name="inbox", location="a", checksum="a", status=BatchStatus.APPLIED,
                inserted=12, updated=3, received_at=now - timedelta(hours=1),
                started_at=now - timedelta(hours=1), finished_at=now - timedelta(minutes=59),
            )
        )  # fmt: skip
    add_student(_engine(), sis_source_id="s-1", first_name="Ava", last_name="Nguyen", ssid="0012345678")
    create(client, world, "Ava", "Nguyen", ssid="0012345678")
    summary = client.get("/api/sync-summary", headers=world.auth("registrar")).json()
    assert (summary["state"], summary["new"], summary["changed"], summary["linked_automatically"]) == (
        "ok", 12, 3, 1,
    )  # fmt: skip
    with Session(_engine()) as session, session.begin():
        session.add(
            Batch(district_id=HOME, source_name="inbox", location="b", checksum="b", status=BatchStatus.HELD)
        )
    held = client.get("/api/sync-summary", headers=world.auth("registrar")).json()
    assert (held["state"], held["deliveries_waiting_for_ops"]) == ("held", 1)
