"""The outbox publisher and sweep against real Postgres and Redis (no worker needed)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text, update

from matching.core.vocabulary import Topic
from models import District, OutboxEvent
from models.db import transaction
from models.outbox import record_event
from tests.worker_harness import OwnRedis, celery_pointed_at, queued_task_names
from worker.outbox import SWEEP_MIN_AGE_SECONDS, publish_pending
from worker.single_flight import release_pending

DISTRICT = "31001"


@pytest.fixture
def district(committed_engine: Engine) -> str:
    with transaction(committed_engine) as session:
        session.add(District(id=DISTRICT, name="Outbox test district"))
    return DISTRICT


def add_event(engine: Engine, topic: Topic, **payload: int) -> int:
    with transaction(engine) as session:
        return record_event(session, topic, DISTRICT, **payload)


def unpublished(engine: Engine) -> list[OutboxEvent]:
    with transaction(engine) as session:
        return list(session.scalars(select(OutboxEvent).where(OutboxEvent.published_at.is_(None))))


def age_events(engine: Engine, seconds: float) -> None:
    with transaction(engine) as session:
        session.execute(
            update(OutboxEvent).values(created_at=func.now() - text(f"interval '{int(seconds)} seconds'"))
        )


def test_an_event_rolled_back_with_its_change_is_never_published(
    committed_engine: Engine, district: str, broker: str
) -> None:
    with pytest.raises(RuntimeError), transaction(committed_engine) as session:
        record_event(session, Topic.BATCH_APPLIED, DISTRICT, batch_id=1)
        session.flush()
        raise RuntimeError("the change failed")
    assert publish_pending(committed_engine).published == 0
    assert queued_task_names(broker) == []


def test_published_events_become_tasks_and_are_marked_sent(
    committed_engine: Engine, district: str, broker: str
) -> None:
    add_event(committed_engine, Topic.BATCH_APPLIED, batch_id=7)
    add_event(committed_engine, Topic.RECORD_LINKED, created_record_id=11, sis_record_id=12, audit_id=1)
    report = publish_pending(committed_engine, district_id=DISTRICT)
    assert (report.published, report.failed) == (2, 0)
    # a link is informational: only the batch queues work
    assert queued_task_names(broker) == ["ale_sync.match_district"]
    assert unpublished(committed_engine) == []
    assert publish_pending(committed_engine).published == 0


def test_events_of_one_district_while_a_match_is_queued_collapse_into_that_match(
    committed_engine: Engine, district: str, broker: str
) -> None:
    for batch_id in (1, 2, 3):
        add_event(committed_engine, Topic.BATCH_APPLIED, batch_id=batch_id)
    assert publish_pending(committed_engine).published == 3
    assert queued_task_names(broker) == ["ale_sync.match_district"]
    release_pending("match", DISTRICT)  # what the queued match does as it starts
    add_event(committed_engine, Topic.BATCH_APPLIED, batch_id=4)
    publish_pending(committed_engine)
    assert queued_task_names(broker) == ["ale_sync.match_district", "ale_sync.match_district"]


def test_the_sweep_leaves_fresh_events_to_the_edge_that_is_publishing_them(
    committed_engine: Engine, district: str, broker: str
) -> None:
    add_event(committed_engine, Topic.BATCH_APPLIED, batch_id=5)
    assert publish_pending(committed_engine, older_than_seconds=SWEEP_MIN_AGE_SECONDS).published == 0
    age_events(committed_engine, SWEEP_MIN_AGE_SECONDS + 1)
    assert publish_pending(committed_engine, older_than_seconds=SWEEP_MIN_AGE_SECONDS).published == 1


def test_a_publisher_skips_rows_another_publisher_is_sending_instead_of_sending_them_twice(
    committed_engine: Engine, district: str, broker: str
) -> None:
    event_id = add_event(committed_engine, Topic.BATCH_APPLIED, batch_id=5)
    claimed, release = threading.Event(), threading.Event()

    def other_publisher() -> None:
        with transaction(committed_engine) as session:
            session.execute(select(OutboxEvent).where(OutboxEvent.id == event_id).with_for_update())
            claimed.set()
            release.wait(10)

    thread = threading.Thread(target=other_publisher)
    thread.start()
    assert claimed.wait(10)
    try:
        report = publish_pending(committed_engine)
    finally:
        release.set()
        thread.join(10)
    assert report.published == 0
    assert queued_task_names(broker) == []
    assert len(unpublished(committed_engine)) == 1


def test_with_redis_down_the_event_waits_and_the_sweep_sends_it_once_redis_is_back(
    committed_engine: Engine, district: str, tmp_path: Path
) -> None:
    server = OwnRedis(tmp_path)
    server.start()
    try:
        with celery_pointed_at(server.url):
            server.stop()
            add_event(committed_engine, Topic.BATCH_APPLIED, batch_id=9)
            report = publish_pending(committed_engine)
            assert (report.published, report.failed) == (0, 1)
            [waiting] = unpublished(committed_engine)
            # the send stops at the match's single-flight mark, the first thing it asks Redis for
            assert (waiting.attempts, waiting.last_error) == (1, "ConnectionError")
            server.start()
            age_events(committed_engine, SWEEP_MIN_AGE_SECONDS + 1)
            assert publish_pending(committed_engine, older_than_seconds=SWEEP_MIN_AGE_SECONDS).published == 1
            assert queued_task_names(server.url) == ["ale_sync.match_district"]
    finally:
        server.stop()
