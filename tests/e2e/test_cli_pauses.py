"""`ale-sync pause add|list|remove` as ops run them, and the pause in `ale-sync status`."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine

from models import District
from models.db import transaction
from tests.e2e.test_cli_ops import ale_sync, json_of

DISTRICT = "34002"


def test_ops_add_list_and_remove_pauses_in_the_district_zone_and_status_shows_the_one_in_force(
    committed_engine: Engine,
) -> None:
    with transaction(committed_engine) as session:
        session.add(District(id=DISTRICT, name="Tumwater", timezone="America/Chicago"))
    today = date.today()
    summer = json_of(
        "pause", "add", DISTRICT, "--from", str(today + timedelta(days=20)), "--until",
        str(today + timedelta(days=80)), "--kind", "summer", "--action", "hold", "--note", "Summer break",
    )  # fmt: skip
    blackout = json_of(
        "pause", "add", DISTRICT, "--from", str(today - timedelta(days=1)), "--until", str(today)
    )

    listed = json_of("pause", "list", "--district", DISTRICT)
    [status] = json_of("status", "--district", DISTRICT)
    table = ale_sync("status", "--district", DISTRICT)

    assert [(p["pause_id"], p["state"], p["timezone"]) for p in listed] == [
        (blackout["pause_id"], "in force", "America/Chicago"),
        (summer["pause_id"], "upcoming", "America/Chicago"),
    ]
    assert summer["starts_at"] == f"{today + timedelta(days=20)} 00:00 {summer['starts_at'][-3:]}"
    assert summer["starts_at"][-3:] in {"CST", "CDT"}
    assert (status["pause"]["in_force"], status["pause"]["action"], status["pause"]["kind"]) == (
        True,
        "skip",
        "blackout",
    )
    assert f"paused: blackout skip until {today + timedelta(days=1)} 00:00" in table.stdout
    assert ale_sync("pause", "remove", str(blackout["pause_id"])).returncode == 0
    assert [p["pause_id"] for p in json_of("pause", "list")] == [summer["pause_id"]]
    [status] = json_of("status", "--district", DISTRICT)
    assert (status["pause"]["in_force"], status["pause"]["kind"]) == (False, "summer")


def test_a_pause_that_cannot_be_added_or_removed_is_refused_in_one_line(committed_engine: Engine) -> None:
    with transaction(committed_engine) as session:
        session.add(District(id=DISTRICT, name="Tumwater"))

    backwards = ale_sync("pause", "add", DISTRICT, "--from", "2026-06-20", "--until", "2026-06-19")
    unknown = ale_sync("pause", "add", "99999", "--from", "2026-06-20", "--until", "2026-06-21")
    not_a_date = ale_sync("pause", "add", DISTRICT, "--from", "June 20", "--until", "2026-06-21")
    missing = ale_sync("pause", "remove", "424242")

    assert [(r.returncode, r.stderr.strip()) for r in (backwards, unknown, missing)] == [
        (2, "ale-sync: the pause must end after it starts"),
        (2, "ale-sync: no district 99999"),
        (1, "ale-sync: no pause 424242"),
    ]
    assert not_a_date.returncode == 2 and "not a date" in not_a_date.stderr
