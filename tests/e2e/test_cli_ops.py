"""The ops commands as ops run them: real `ale-sync` processes against the test database and Redis."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, select, text, update
from typer.testing import CliRunner

from matching.core.vocabulary import Topic
from models import Batch, District, OutboxEvent, Staff
from models.db import transaction
from models.outbox import record_event
from models.staff import hash_staff_token
from tests.worker_harness import deliver, queued_task_names, save_created_record, sis_rows, source_env
from worker.cli import app as cli_app

DISTRICT = "34001"


def ale_sync(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    merged = {**os.environ, "LOG_FORMAT": "json", "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        ["ale-sync", *args], capture_output=True, text=True, env=merged, check=False, timeout=120
    )


def json_of(*args: str, env: dict[str, str] | None = None) -> Any:
    result = ale_sync(*args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def synced_district(tmp_path: Path, committed_engine: Engine, redis_client: redis.Redis) -> dict[str, str]:
    """A configured district with one delivery and three created records, resynced inline."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    deliver(inbox, "batch-1", sis_rows(6))
    save_created_record(committed_engine, DISTRICT, "Given", "Family1", ssid="5500000001")  # links
    save_created_record(committed_engine, DISTRICT, "Priya", "Raman", ssid="5500000002")  # hits another child
    save_created_record(committed_engine, DISTRICT, "Noa", "Lee", ssid=None)  # waits for staff
    env = {"SIS_SOURCES": source_env({DISTRICT: inbox})}
    summary = json_of("resync", "--district", DISTRICT, "--wait", env=env)
    assert summary == [
        {
            "district_id": DISTRICT,
            "batches": [
                {
                    "batch_id": summary[0]["batches"][0]["batch_id"],
                    "status": "applied",
                    "counts": {
                        "inserted": 6,
                        "updated": 0,
                        "unchanged": 0,
                        "deactivated": 0,
                        "quarantined": 0,
                        "ignored": 0,
                    },
                    "reason": None,
                }
            ],
            "linked": 1,
            "held": 1,
            "waiting": 1,
            "suggested": summary[0]["suggested"],
        }
    ]
    return env


def test_status_shows_the_last_batch_and_its_counts_unlinked_held_and_the_oldest_age(
    synced_district: dict[str, str],
) -> None:
    [row] = json_of("status", "--district", DISTRICT)
    assert row["last_batch"]["status"] == "applied"
    assert row["last_batch"]["counts"]["inserted"] == 6
    assert (row["unlinked"], row["held"], row["last_error"]) == (2, 1, None)
    assert row["oldest_unlinked_age_seconds"] >= 0
    table = ale_sync("status")
    assert table.returncode == 0
    assert DISTRICT in table.stdout and "applied" in table.stdout


def test_unlinked_and_holds_list_the_records_staff_still_have_to_link_with_the_reason(
    synced_district: dict[str, str], committed_engine: Engine
) -> None:
    with committed_engine.begin() as connection:  # typed on the create form: birth date and grade
        connection.execute(
            text("UPDATE students SET birth_date = '2019-04-02', grade = 'KG' WHERE last_name = 'Lee'")
        )
    unlinked = json_of("unlinked", "--district", DISTRICT)
    assert [(r["birth_date"], r["grade"], r["school_id"]) for r in unlinked["rows"]] == [
        (None, None, None),
        ("2019-04-02", "KG", None),
    ]
    assert "2019-04-02, grade KG" in ale_sync("unlinked", "--district", DISTRICT).stdout
    assert (unlinked["total"], unlinked["offset"]) == (2, 0)
    assert [(r["last_name"], r["has_ssid"], r["hold_reason"]) for r in unlinked["rows"]] == [
        ("Raman", True, "name_mismatch"),
        ("Lee", False, None),
    ]
    second = json_of("unlinked", "--district", DISTRICT, "--limit", "1", "--offset", "1")
    assert (second["total"], [r["last_name"] for r in second["rows"]]) == (2, ["Lee"])
    assert (
        "unlinked created records: 2-2 of 2" in ale_sync("unlinked", "--limit", "1", "--offset", "1").stdout
    )
    held = json_of("holds", "--district", DISTRICT)
    [hold] = held["rows"]
    assert held["total"] == 1
    assert (hold["name"], hold["reason"], hold["candidate_name"]) == (
        "Priya Raman",
        "name_mismatch",
        "Given Family2",
    )
    assert "name_mismatch" in ale_sync("holds").stdout


def test_resync_without_wait_queues_the_pull_and_the_match_and_prints_their_task_ids(
    synced_district: dict[str, str], redis_url: str, redis_client: redis.Redis
) -> None:
    redis_client.flushdb()  # no worker ran the match the inline resync's event queued
    [row] = json_of("resync", "--district", DISTRICT, env=synced_district)
    assert row["pull_task_id"] and row["match_task_id"]
    assert sorted(queued_task_names(redis_url)) == ["ale_sync.match_district", "ale_sync.pull_district"]
    [again] = json_of("resync", "--district", DISTRICT, env=synced_district)
    assert (again["pull_task_id"], again["match_task_id"]) == (None, None)  # already queued
    assert len(queued_task_names(redis_url)) == 2


def test_staff_add_prints_a_token_once_that_only_its_hash_is_stored_for_and_revoke_ends_it(
    synced_district: dict[str, str], committed_engine: Engine
) -> None:
    added = json_of("staff", "add", "--district", DISTRICT, "--name", "R. Alvarez", "--role", "registrar")
    with transaction(committed_engine) as session:
        staff = session.scalars(select(Staff).where(Staff.id == added["staff_id"])).one()
    assert staff.token_hash == hash_staff_token(added["token"]) != added["token"]
    assert [s["name"] for s in json_of("staff", "list", "--district", DISTRICT)] == ["R. Alvarez"]
    assert ale_sync("staff", "revoke", str(added["staff_id"])).returncode == 0
    [listed] = json_of("staff", "list", "--district", DISTRICT)
    assert listed["revoked_at"] is not None


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["status", "--district", "00000"], "ale-sync: no district 00000"),
        (["staff", "revoke", "987654"], "ale-sync: no staff 987654"),
        (
            ["staff", "add", "--district", "00000", "--name", "X", "--role", "teacher"],
            "ale-sync: no district 00000",
        ),
        (["resync", "--district", "00000"], "ale-sync: no district 00000 is configured or stored"),
    ],
)
def test_a_failed_command_exits_1_with_one_line_on_stderr(
    args: list[str], reason: str, database_url: str
) -> None:
    result = ale_sync(*args)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [reason]


@pytest.mark.parametrize(
    "command",
    [
        ["resync"],
        ["status"],
        ["unlinked"],
        ["holds"],
        ["staff"],
        ["staff", "add"],
        ["staff", "list"],
        ["staff", "revoke"],
    ],
)
def test_every_ops_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(cli_app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.stdout


def test_status_names_the_last_error_a_failed_batch_or_events_the_worker_never_got(
    committed_engine: Engine, database_url: str
) -> None:
    with transaction(committed_engine) as session:
        session.add(District(id="34002", name="b"))
        session.flush()
        event_id = record_event(session, Topic.BATCH_APPLIED, "34002", batch_id=1)
        session.execute(
            update(OutboxEvent).where(OutboxEvent.id == event_id).values(last_error="OperationalError")
        )
    [row] = json_of("status", "--district", "34002")
    assert row["last_error"] == "1 event(s) not yet sent to the worker: OperationalError"
    with transaction(committed_engine) as session:
        session.add(
            Batch(
                district_id="34002",
                source_name="s",
                location="/x",
                checksum="c" * 64,
                status="failed",
                error="E1",
            )
        )
    [row] = json_of("status", "--district", "34002")
    assert row["last_error"].endswith("failed: E1")
    assert row["last_batch"]["status"] == "failed"
