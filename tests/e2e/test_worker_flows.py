"""The worker's flows through a real `celery worker` process, real Postgres and a Redis the test owns."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from config.settings import SourceConfig
from models import Batch, BatchStatus, LinkAudit, OutboxEvent, Student, StudentStatus
from models.db import transaction
from tests.e2e.conftest import StartWorker
from tests.worker_harness import (
    OwnRedis,
    deliver,
    save_created_record,
    sis_rows,
    wait_for,
    worker_log_problems,
)
from worker.enqueue import enqueue_pull
from worker.ingest import ingest_batch
from worker.outbox import publish_pending
from worker.pull import register_delivery
from worker.worker_process import unpublished_events, wait_until_idle

pytestmark = pytest.mark.slow

DISTRICT = "32001"


def record_status(engine: Engine, record_id: int) -> StudentStatus:
    with transaction(engine) as session:
        return session.scalars(select(Student.status).where(Student.id == record_id)).one()


def test_a_created_record_with_an_ssid_links_when_its_batch_arrives(
    committed_engine: Engine, own_redis: OwnRedis, inbox: Path, workers: StartWorker
) -> None:
    worker = workers()
    record_id = save_created_record(committed_engine, DISTRICT, "Given", "Family3", ssid="5500000003")
    publish_pending(committed_engine)
    wait_until_idle(committed_engine, own_redis.url)
    assert (
        record_status(committed_engine, record_id) == StudentStatus.ACTIVE
    )  # its SIS record is not there yet

    deliver(inbox, "batch-1", sis_rows(5))
    enqueue_pull(DISTRICT)
    wait_until_idle(committed_engine, own_redis.url)

    with transaction(committed_engine) as session:
        audit = session.scalars(select(LinkAudit).where(LinkAudit.created_record_id == record_id)).one()
        batch = session.scalars(select(Batch).where(Batch.district_id == DISTRICT)).one()
        target = session.get(Student, audit.sis_record_id)
    assert record_status(committed_engine, record_id) == StudentStatus.MERGED
    assert (audit.method, audit.batch_id, audit.actor_kind) == ("ssid", batch.id, "system")
    assert target is not None and target.ssid == "5500000003"
    assert worker_log_problems(worker.log_path) == []
    assert_one_canonical_line_per_task_without_pii(worker.log_path, pii=["Family3", "5500000003", "700003"])


def assert_one_canonical_line_per_task_without_pii(log: Path, pii: list[str]) -> None:
    text = log.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    received = [line for line in lines if str(line["event"]).endswith("] received")]
    finished = [line for line in lines if line["event"] == "task_finished"]
    assert len(finished) == len(received) > 0
    assert len({line["task_id"] for line in finished}) == len(finished)
    for line in finished:
        assert {"task", "task_id", "outcome", "duration_ms"} <= line.keys()
    # a value counts only where it stands whole: the digits of an Other ID can also turn up
    # inside a logged duration such as 0.17946479700003692 s
    assert [value for value in pii if re.search(rf"(?<!\d){re.escape(value)}(?!\d)", text)] == []


def test_a_worker_killed_mid_ingest_leaves_the_batch_to_a_new_worker_which_applies_it_exactly_once(
    committed_engine: Engine, own_redis: OwnRedis, inbox: Path, workers: StartWorker
) -> None:
    # a short visibility timeout, so the killed worker's message comes back within the test
    settings = {"BROKER_VISIBILITY_TIMEOUT_SECONDS": "12"}
    first = workers(**settings)
    deliver(inbox, "batch-1", sis_rows(8000))
    enqueue_pull(DISTRICT)

    # The batch's outbox event is written last, in the same transaction as its student rows:
    # holding the outbox table stops the ingest there, every row written but nothing committed,
    # so the kill below always lands mid-ingest however fast the ingest is.
    blocker = committed_engine.connect()
    blocking = blocker.begin()
    blocker.execute(text("LOCK TABLE outbox_events IN SHARE MODE"))

    def ingest_waiting_on_its_last_write() -> bool:
        with committed_engine.connect() as connection:
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                    " WHERE c.relname = 'outbox_events' AND NOT l.granted"
                )
            )
            return bool(waiting.scalar_one())

    try:
        wait_for(ingest_waiting_on_its_last_write, timeout=60)
        first.kill()
        with transaction(committed_engine) as session:
            # killed mid-ingest: nothing of the batch landed
            assert session.scalar(select(Batch.status).where(Batch.district_id == DISTRICT)) == "ingesting"
            assert session.scalar(select(func.count()).where(Student.district_id == DISTRICT)) == 0
    finally:
        blocking.rollback()
        blocker.close()

    second = workers(**settings)

    def applied() -> bool:
        with transaction(committed_engine) as session:
            return session.scalar(select(Batch.status).where(Batch.district_id == DISTRICT)) == "applied"

    wait_for(applied, timeout=90)
    wait_until_idle(committed_engine, own_redis.url)
    with transaction(committed_engine) as session:
        batch = session.scalars(select(Batch).where(Batch.district_id == DISTRICT)).one()
        students = session.scalar(select(func.count()).where(Student.district_id == DISTRICT))
        events = session.scalar(select(func.count()).where(OutboxEvent.topic == "batch_applied"))
    assert (batch.status, batch.inserted, batch.updated, batch.unchanged) == (BatchStatus.APPLIED, 8000, 0, 0)
    assert students == 8000
    assert events == 1
    assert second.log_path.read_text().count('"event": "ingest.batch_finished"') == 1
    assert worker_log_problems(second.log_path) == []


def test_a_batch_applied_while_redis_is_down_is_matched_once_redis_is_back(
    committed_engine: Engine, own_redis: OwnRedis, inbox: Path, tmp_path: Path, workers: StartWorker
) -> None:
    worker = workers(beat=True, OUTBOX_SWEEP_SECONDS="5")
    deliver(inbox, "batch-1", sis_rows(5))
    enqueue_pull(DISTRICT)
    wait_until_idle(committed_engine, own_redis.url)

    own_redis.stop()
    # saved before its SIS record arrives: the in-request match leaves it waiting
    record_id = save_created_record(committed_engine, DISTRICT, "Given", "Family5", ssid="5500000005")
    # ops ingest the next delivery by hand while Redis is down; its batch_applied event waits
    bundle = tmp_path / "by-hand"
    bundle.mkdir()
    deliver(bundle, "batch-2", sis_rows(6))
    source = SourceConfig(district=DISTRICT, name=f"sis-{DISTRICT}", inbox=bundle)
    with transaction(committed_engine) as session:
        batch_id, _ = register_delivery(session, source, bundle / "batch-2")
    # the ingest tries to publish its event right after its commit, and cannot
    assert ingest_batch(committed_engine, batch_id).status == BatchStatus.APPLIED
    assert record_status(committed_engine, record_id) == StudentStatus.ACTIVE
    assert unpublished_events(committed_engine) == 1
    own_redis.start()

    wait_for(lambda: record_status(committed_engine, record_id) == StudentStatus.MERGED, timeout=60)
    with transaction(committed_engine) as session:
        event = session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.topic == "batch_applied", OutboxEvent.payload["batch_id"].as_integer() == batch_id
            )
        ).one()
    assert event.published_at is not None and event.attempts == 1
    assert worker_log_problems(worker.log_path, broker_outage=True) == []
    # beat's lock and schedule went with the restarted Redis: it took them again, and kept going
    assert '"event": "beat_lock_reacquired"' in worker.log_path.read_text()
