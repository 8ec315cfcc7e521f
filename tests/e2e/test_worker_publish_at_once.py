"""Events go out as soon as their change commits, whoever commits it: an `ale-sync ingest` run by
hand links its records through the running worker without any sweep; `resync --wait` reports the
links any process made; a starting beat pulls at once; the pool processes' metrics reach /metrics.
Real worker, real Postgres and Redis."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from models import Batch, BatchStatus, Student, StudentStatus
from models.db import transaction
from tests.e2e.conftest import StartWorker
from tests.worker_harness import deliver, free_port, save_created_record, sis_rows, wait_for
from worker.enqueue import enqueue_pull, send
from worker.metrics.exposition import metrics_text
from worker.sample_roster import write_bundle
from worker.task_names import INGEST_BATCH

pytestmark = pytest.mark.slow

DISTRICT = "32101"


@pytest.fixture
def worker_district() -> str:
    return DISTRICT


def ale_sync(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ale-sync", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "LOG_FORMAT": "json", **env},
        check=False,
        timeout=300,
    )


def status_of(engine: Engine, record_id: int) -> StudentStatus:
    with transaction(engine) as session:
        return session.scalars(select(Student.status).where(Student.id == record_id)).one()


def test_a_batch_ingested_by_hand_links_its_records_through_the_worker_without_a_sweep(
    committed_engine: Engine, worker_env: dict[str, str], workers: StartWorker, tmp_path: Path
) -> None:
    workers()  # no beat: nothing sweeps the outbox, so only the ingest's own publish can wake it
    record_id = save_created_record(committed_engine, DISTRICT, "Given", "Family3", ssid="5500000003")
    bundle = write_bundle(tmp_path / "by-hand", sis_rows(5))

    done = ale_sync(worker_env, "ingest", str(bundle), "--district", DISTRICT, "--json")

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "applied"
    wait_for(lambda: status_of(committed_engine, record_id) == StudentStatus.MERGED, 30)


def test_resync_wait_reports_the_links_made_during_its_run_whichever_process_made_them(
    committed_engine: Engine, worker_env: dict[str, str], workers: StartWorker, inbox: Path
) -> None:
    workers()
    for i in (1, 2, 3):
        save_created_record(committed_engine, DISTRICT, "Given", f"Family{i}", ssid=f"55{i:08d}")
    deliver(inbox, "batch-1", sis_rows(6))

    done = ale_sync(worker_env, "resync", "--district", DISTRICT, "--wait", "--json")

    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)
    # the worker, woken by the batch's event, races the inline pass: the three links are
    # reported whichever of the two made them
    assert (row["linked"], row["held"]) == (3, 0)


def test_a_starting_beat_pulls_at_once_not_one_interval_later(
    committed_engine: Engine, workers: StartWorker, inbox: Path
) -> None:
    deliver(inbox, "batch-1", sis_rows(4))

    workers(beat=True, PULL_INTERVAL_SECONDS="3600")

    def applied() -> bool:
        with transaction(committed_engine) as session:
            return (
                session.scalar(select(Batch.status).where(Batch.district_id == DISTRICT))
                == BatchStatus.APPLIED
            )

    wait_for(applied, 60)


def test_the_worker_pool_processes_counts_reach_metrics_through_the_multiprocess_folder(
    committed_engine: Engine,
    workers: StartWorker,
    inbox: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "prometheus"
    folder.mkdir()
    port = free_port()
    workers(PROMETHEUS_MULTIPROC_DIR=str(folder), WORKER_METRICS_PORT=str(port))
    deliver(inbox, "batch-1", sis_rows(4))
    enqueue_pull(DISTRICT)
    send(INGEST_BATCH, batch_id="not a number")  # fails for good in a pool process

    def counted() -> bool:
        monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
        text = metrics_text(committed_engine).decode()
        return (
            'ale_sync_ingest_duration_seconds_count{kind="bulk",status="applied"} 1.0' in text
            and 'ale_sync_task_failures_total{task="ale_sync.ingest_batch"} 1.0' in text
        )

    wait_for(counted, 60)
    # the worker's own endpoint, for a host without a web process: the same counts, no database gauges
    served = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    assert 'ale_sync_task_failures_total{task="ale_sync.ingest_batch"} 1.0' in served
    assert "ale_sync_batches" not in served
