"""The scheduled tasks' fan-out, run in-process against real Postgres and Redis."""

from __future__ import annotations

import json

import pytest
import redis
from sqlalchemy import Engine, select

from config.settings import get_settings
from models import Batch, District, LinkAudit, Student
from models.db import transaction
from tests.worker_harness import queued_task_names
from worker.enqueue import enqueue_match_district
from worker.tasks import (
    match_district_task,
    nightly_rematch_task,
    pull_all_sources_task,
)


def test_what_a_test_queues_unpointed_lands_in_its_own_redis_database(
    engine: Engine, redis_url: str, redis_client: redis.Redis
) -> None:
    """Never in the database a real worker reads: the session points this process's Celery app at
    its own database, though collecting this module (it imports tasks) has bound the app's
    configuration to the REDIS_URL the suite was started with."""
    assert enqueue_match_district("38001") is not None
    assert queued_task_names(redis_url) == ["ale_sync.match_district"]
    assert redis_client.exists("ale_sync:pending:match:38001")


def test_the_nightly_rematch_queues_one_match_per_stored_district(
    committed_engine: Engine, broker: str
) -> None:
    with transaction(committed_engine) as session:
        session.add_all([District(id="35001", name="a"), District(id="35002", name="b")])
    assert nightly_rematch_task() == {"outcome": "ok", "districts": 2, "queued": 2}
    assert nightly_rematch_task() == {"outcome": "ok", "districts": 2, "queued": 0}  # still queued
    assert queued_task_names(broker) == ["ale_sync.match_district"] * 2


def test_the_beat_pull_queues_one_pull_per_configured_district(
    broker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = [
        {"district": d, "name": f"s{n}", "inbox": "/nonexistent"} for n, d in enumerate(["36001", "36002"])
    ]
    monkeypatch.setenv("SIS_SOURCES", json.dumps([*sources, {**sources[0], "name": "second-feed"}]))
    get_settings.cache_clear()
    try:
        assert pull_all_sources_task() == {"outcome": "ok", "districts": 2, "queued": 2}
    finally:
        get_settings.cache_clear()
    assert queued_task_names(broker) == ["ale_sync.pull_district"] * 2


def test_a_match_standing_for_collapsed_batch_events_credits_its_links_to_the_newest_batch(
    committed_engine: Engine, broker: str
) -> None:
    with transaction(committed_engine) as session:
        session.add(District(id="37002", name="d"))
        session.flush()
        batches = [
            Batch(district_id="37002", source_name="s", location="/x", checksum=c * 64, status="applied")
            for c in "ab"
        ]
        session.add_all(batches)
        session.flush()
        session.add(
            Student(
                district_id="37002",
                origin="sis",
                sis_source_id="stu-1",
                ssid="5500000001",
                first_name="Ada",
                last_name="Moreno",
                last_batch_id=batches[1].id,
            )
        )
        session.add(
            Student(
                district_id="37002", origin="created", ssid="5500000001", first_name="Ada", last_name="Moreno"
            )
        )
        first, newest = batches[0].id, batches[1].id
    # the queued match was sent for the first batch; the second batch's event collapsed into it
    assert match_district_task(district_id="37002", batch_id=first)["linked"] == 1
    with transaction(committed_engine) as session:
        assert session.scalars(select(LinkAudit.batch_id)).one() == newest
