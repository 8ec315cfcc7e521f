"""`ale-sync ingest` and `ale-sync batches` as ops run them: real processes, exit codes, JSON."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.fixtures.rosters.bundles import FIXTURES, students, write_oneroster


def ale_sync(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOG_FORMAT": "json", "SIS_SOURCES": "[]"}
    return subprocess.run(
        ["ale-sync", *args], capture_output=True, text=True, env=env, check=False, timeout=300
    )


def test_a_dry_run_prints_the_plan_with_quarantined_rows_and_changes_nothing(database_url, committed_engine):
    result = ale_sync(
        "ingest", str(FIXTURES / "oneroster11_messy"), "--district", "17099", "--dry-run", "--json"
    )

    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert (plan["counts"]["inserted"], plan["counts"]["quarantined"], plan["would_hold"]) == (4, 9, False)
    assert plan["quarantined_rows"][0] == {
        "file_name": "users.csv", "row_number": 7, "reason_code": "missing_required",
        "detail": "givenName is empty", "sis_source_id": "stu-5",
    }  # fmt: skip
    listed = ale_sync("batches", "list", "--json")
    assert json.loads(listed.stdout) == []


def test_ingest_applies_a_bundle_and_a_second_run_of_the_same_bytes_changes_nothing(
    database_url, committed_engine
):
    first = ale_sync("ingest", str(FIXTURES / "oneroster11_messy"), "--district", "17099", "--json")
    again = ale_sync("ingest", str(FIXTURES / "oneroster11_messy"), "--district", "17099", "--json")

    assert (first.returncode, again.returncode) == (0, 0), first.stderr
    assert json.loads(first.stdout) == json.loads(again.stdout)
    shown = json.loads(
        ale_sync("batches", "show", str(json.loads(first.stdout)["batch_id"]), "--json").stdout
    )
    assert (shown["status"], shown["inserted"], len(shown["quarantined_rows"])) == ("applied", 4, 9)


def test_a_held_batch_exits_3_and_ops_approve_it_from_the_cli(database_url, committed_engine, tmp_path):
    assert (
        ale_sync("ingest", str(write_oneroster(tmp_path / "a", students(20))), "-d", "17099").returncode == 0
    )

    held = ale_sync("ingest", str(write_oneroster(tmp_path / "b", students(10))), "-d", "17099", "--json")

    assert held.returncode == 3
    batch_id = str(json.loads(held.stdout)["batch_id"])
    assert [
        b["id"] for b in json.loads(ale_sync("batches", "list", "--status", "held", "--json").stdout)
    ] == [int(batch_id)]
    approved = ale_sync("batches", "approve", batch_id, "--by", "ops-ana", "--json")
    assert approved.returncode == 0, approved.stderr
    assert json.loads(approved.stdout)["counts"]["deactivated"] == 10
    refused = ale_sync("batches", "reject", batch_id, "--reason", "late", "--by", "ops-ana")
    assert refused.returncode == 1
    assert "is applied, not held" in refused.stderr


def test_a_broken_delivery_exits_1_with_its_reason(database_url, committed_engine, tmp_path):
    bundle = write_oneroster(tmp_path / "a", students(2))
    (bundle / "manifest.csv").unlink()

    result = ale_sync("ingest", str(bundle), "-d", "17099")

    assert result.returncode == 1
    assert "the bundle has no manifest.csv" in result.stdout


def test_ingest_without_a_district_when_several_could_apply_is_a_usage_error(database_url, tmp_path):
    result = ale_sync("ingest", str(write_oneroster(tmp_path / "a", students(1))))

    assert result.returncode == 2
    assert "--district" in result.stderr


@pytest.mark.parametrize("command", [["ingest"], ["batches"], ["batches", "list"], ["batches", "approve"]])
def test_every_ingest_command_has_help(command):
    result = ale_sync(*command, "--help")

    assert result.returncode == 0
    assert "Usage" in result.stdout
