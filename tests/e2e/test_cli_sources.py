"""`ale-sync batches show` says where a delivery came from; `ale-sync batches replay` re-ingests it."""

from __future__ import annotations

import json
import os
import subprocess

from tests.fixtures.rosters.bundles import students, write_oneroster


def ale_sync(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOG_FORMAT": "json", "SIS_SOURCES": "[]"}
    return subprocess.run(
        ["ale-sync", *args], capture_output=True, text=True, env=env, check=False, timeout=300
    )


def test_batches_show_names_the_source_the_file_and_the_archived_copy(
    database_url, committed_engine, tmp_path
):
    bundle = write_oneroster(tmp_path / "2026-11-01", students(4))
    batch_id = json.loads(ale_sync("ingest", str(bundle), "-d", "17099", "--json").stdout)["batch_id"]

    shown = ale_sync("batches", "show", str(batch_id))

    assert shown.returncode == 0, shown.stderr
    lines = {
        line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip() for line in shown.stdout.splitlines()
    }
    assert lines["received"] == "file source cli"
    assert lines["from"] == str(bundle.resolve())
    assert lines["archive"].endswith(".zip") and os.path.isfile(lines["archive"])


def test_batches_replay_dry_run_prints_the_plan_and_replay_ingests_a_new_batch(
    database_url, committed_engine, tmp_path
):
    bundle = write_oneroster(tmp_path / "2026-11-01", students(4))
    batch_id = str(json.loads(ale_sync("ingest", str(bundle), "-d", "17099", "--json").stdout)["batch_id"])

    planned = ale_sync("batches", "replay", batch_id, "--dry-run", "--json")
    assert planned.returncode == 0, planned.stderr
    assert json.loads(planned.stdout)["counts"]["unchanged"] == 4
    assert len(json.loads(ale_sync("batches", "list", "--json").stdout)) == 1

    replayed = ale_sync("batches", "replay", batch_id, "--json")

    assert replayed.returncode == 0, replayed.stderr
    result = json.loads(replayed.stdout)
    assert (result["status"], result["counts"]["unchanged"]) == ("applied", 4)
    shown = json.loads(ale_sync("batches", "show", str(result["batch_id"]), "--json").stdout)
    assert shown["replay_of"] == int(batch_id)


def test_replaying_an_unknown_batch_fails_with_one_line(database_url, committed_engine):
    result = ale_sync("batches", "replay", "999")

    assert result.returncode == 1
    assert result.stderr.strip() == "ale-sync: batch 999 not found"


def test_resync_full_and_sources_show_an_api_source_that_cannot_be_reached(database_url, committed_engine):
    source = {
        "district": "17099", "name": "sis-api", "kind": "oneroster-api",
        "api": {"base_url": "http://127.0.0.1:9/ims/oneroster/rostering/v1p2", "token_url": "http://127.0.0.1:9/token",
                "client_id": "ale", "client_secret": {"env": "ALE_TEST_UNUSED_SECRET"}, "max_attempts": 1},
    }  # fmt: skip
    env = {
        **os.environ,
        "LOG_FORMAT": "json",
        "SIS_SOURCES": json.dumps([source]),
        "ALE_TEST_UNUSED_SECRET": "x",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ale-sync", *args], capture_output=True, text=True, env=env, check=False, timeout=300
        )

    synced = run("resync", "--district", "17099", "--wait", "--full", "--json")
    listed = run("sources", "--json")

    assert synced.returncode == 0, synced.stderr
    (row,) = json.loads(listed.stdout)
    assert (row["kind"], row["full_read_requested"]) == ("oneroster-api", True)
    assert row["last_error"] == (
        "http://127.0.0.1:9/token failed 1 times in a row (last: a timeout or a reset connection)"
    )
