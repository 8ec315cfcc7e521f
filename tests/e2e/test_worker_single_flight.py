"""Beat and an ops resync fired together, fifty times, against a real worker: one effective run
per district each time, no errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from typer.testing import CliRunner

from config.settings import get_settings
from models import Batch, BatchStatus, LinkAudit, Student
from models.db import transaction
from tests.worker_harness import (
    OwnRedis,
    deliver,
    save_created_record,
    sis_rows,
    source_env,
    worker_log_problems,
)
from worker.celery_app import app as celery
from worker.cli import app as cli_app
from worker.outbox import publish_pending
from worker.schedule import beat_schedule
from worker.sync import pull_district
from worker.tasks import ingest_batch_task, match_district_task, pull_district_task
from worker.worker_process import start_worker, wait_until_idle, wait_until_ready

pytestmark = pytest.mark.slow

DISTRICTS = ("33001", "33002")
ROUNDS = 50


def fire_beat_and_resync_together() -> None:
    """What beat sends on its pull schedule, and `ale-sync resync`, released at the same instant."""
    entry = beat_schedule()["pull-sis-sources"]
    start = threading.Barrier(2)
    outcome: dict[str, int] = {}

    def beat() -> None:
        start.wait(5)
        celery.send_task(entry["task"], **entry["options"])

    def resync() -> None:
        start.wait(5)
        outcome["exit_code"] = CliRunner().invoke(cli_app, ["resync", "--json"]).exit_code

    threads = [threading.Thread(target=beat), threading.Thread(target=resync)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcome == {"exit_code": 0}


def batches_finished_per_batch(log: Path) -> Counter[int]:
    """How many times each batch was really ingested (the ingest logs this line only then)."""
    counts: Counter[int] = Counter()
    for line in log.read_text(errors="replace").splitlines():
        if '"ingest.batch_finished"' in line:
            counts[json.loads(line)["batch_id"]] += 1
    return counts


def test_beat_and_a_resync_fired_together_fifty_times_run_each_district_once_each_time(
    tmp_path: Path, database_url: str, committed_engine: Engine, own_redis: OwnRedis
) -> None:
    inboxes = {d: tmp_path / f"inbox-{d}" for d in DISTRICTS}
    for folder in inboxes.values():
        folder.mkdir()
    env = {"DATABASE_URL": database_url, "REDIS_URL": own_redis.url, "SIS_SOURCES": source_env(inboxes)}
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        wait_until_ready(worker)
        for round_number in range(1, ROUNDS + 1):
            for district, inbox in inboxes.items():
                # a growing bulk roster: each round adds one child, whose created record waits for it
                deliver(inbox, f"{round_number:03d}", sis_rows(round_number))
                newest = sis_rows(1, start=round_number - 1)[0]
                save_created_record(committed_engine, district, newest[3], newest[4], ssid=newest[1])
            publish_pending(committed_engine)
            fire_beat_and_resync_together()
            wait_until_idle(committed_engine, own_redis.url, settle=0.2)
            assert_one_effective_run_per_district(committed_engine, round_number)
            for inbox in inboxes.values():
                # ops archive applied deliveries; the ledger would skip them anyway, only slower
                (inbox / f"{round_number:03d}").rename(tmp_path / f"done-{inbox.name}-{round_number:03d}")
    finally:
        worker.stop()
    ingests = batches_finished_per_batch(worker.log_path)
    assert len(ingests) == ROUNDS * len(DISTRICTS)
    assert set(ingests.values()) == {1}
    assert worker_log_problems(worker.log_path) == []


def assert_one_effective_run_per_district(engine: Engine, round_number: int) -> None:
    with transaction(engine) as session:
        for district in DISTRICTS:
            batches = session.execute(
                select(Batch.status, Batch.inserted).where(Batch.district_id == district).order_by(Batch.id)
            ).all()
            links = session.scalar(select(func.count()).where(LinkAudit.district_id == district))
            unlinked = session.scalar(
                select(func.count()).where(
                    Student.district_id == district, Student.origin == "created", Student.status == "active"
                )
            )
            assert len(batches) == round_number, district
            assert batches[-1] == (BatchStatus.APPLIED, 1), district
            assert (links, unlinked) == (round_number, 0), district


def start_beat(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "celery", "-A", "worker.celery_app", "beat", "--loglevel", "INFO"]
    command += ["--scheduler", "worker.schedule:SteadyRedBeatScheduler", "--schedule", str(log_path) + ".db"]
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command, env={**os.environ, "LOG_FORMAT": "json", **env}, stdout=log, stderr=subprocess.STDOUT
        )


def test_of_two_beats_only_the_one_holding_the_lock_sends_anything(
    tmp_path: Path, database_url: str, own_redis: OwnRedis
) -> None:
    env = {"DATABASE_URL": database_url, "REDIS_URL": own_redis.url, "OUTBOX_SWEEP_SECONDS": "5"}
    logs = [tmp_path / "beat-1.log", tmp_path / "beat-2.log"]
    beats = [start_beat(env, log) for log in logs]
    try:
        deadline = time.monotonic() + 60
        while sum(log.read_text().count("Sending due task") for log in logs) < 2:
            assert time.monotonic() < deadline, "no beat sent the sweep"
            time.sleep(0.2)
        # read before stopping: once the holder stops and releases the lock, the standby may
        # rightly take it over in the moment before it is stopped too
        texts = [log.read_text() for log in logs]
    finally:
        for beat in beats:
            beat.terminate()
        for beat in beats:
            beat.wait(20)
    holders = [t for t in texts if "beat: Acquired lock" in t]
    standby = [t for t in texts if "beat: Acquired lock" not in t]
    assert len(holders) == 1 and len(standby) == 1
    assert standby[0].count("Sending due task") == 0


def test_duplicate_messages_that_bypass_the_redis_marks_still_ingest_and_link_once(
    tmp_path: Path,
    database_url: str,
    committed_engine: Engine,
    own_redis: OwnRedis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    district = DISTRICTS[0]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    deliver(inbox, "001", sis_rows(400))
    record_id = save_created_record(committed_engine, district, "Given", "Family7", ssid="5500000007")
    sources = source_env({district: inbox})
    monkeypatch.setenv("SIS_SOURCES", sources)
    get_settings.cache_clear()
    [batch_id] = pull_district(committed_engine, district)
    get_settings.cache_clear()
    with transaction(committed_engine) as session:
        session.execute(text("DELETE FROM outbox_events"))  # only the duplicates below drive the worker
    for _ in range(4):  # all queued before the worker starts, so its two processes race for them
        pull_district_task.apply_async(kwargs={"district_id": district})
        ingest_batch_task.apply_async(kwargs={"batch_id": batch_id})
        match_district_task.apply_async(kwargs={"district_id": district, "batch_id": batch_id})
    env = {"DATABASE_URL": database_url, "REDIS_URL": own_redis.url, "SIS_SOURCES": sources}
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        wait_until_ready(worker)
        wait_until_idle(committed_engine, own_redis.url)
    finally:
        worker.stop()
    with transaction(committed_engine) as session:
        batch = session.get(Batch, batch_id)
        links = session.scalars(
            select(LinkAudit.created_record_id).where(LinkAudit.district_id == district)
        ).all()
        students = session.scalar(
            select(func.count()).where(Student.district_id == district, Student.origin == "sis")
        )
    assert batch is not None and (batch.status, batch.inserted) == (BatchStatus.APPLIED, 400)
    assert (students, links) == (400, [record_id])
    assert batches_finished_per_batch(worker.log_path) == Counter({batch_id: 1})
    assert worker_log_problems(worker.log_path) == []
