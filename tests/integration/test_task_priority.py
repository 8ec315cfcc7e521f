"""A district's tasks are queued at its size's priority step, so a worker takes small districts'
work before anything a large district has waiting."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine

from config.settings import SourceConfig
from models.db import transaction
from tests.fixtures.rosters.bundles import students, write_oneroster
from tests.worker_harness import celery_pointed_at
from worker import routing
from worker.enqueue import enqueue_ingest, enqueue_match_district, enqueue_pull
from worker.ingest import ingest_batch
from worker.pull import register_delivery
from worker.schedule import redbeat_redis_url

LARGE, SMALL = "38001", "38002"
SEP = "\x06\x16"  # kombu's separator between a queue's name and its priority step


@pytest.fixture
def broker(redis_url: str, redis_client: redis.Redis) -> Iterator[str]:
    with celery_pointed_at(redis_url):
        yield redis_url


def queued(url: str) -> dict[str, list[tuple[str, str]]]:
    """Per Redis list of the queue: (task, district or batch) of each message, oldest first."""
    client = redis.Redis.from_url(redbeat_redis_url(url))
    try:
        lists = {"0": "ale_sync", **{s: f"ale_sync{SEP}{s}" for s in ("3", "6", "9")}}
        found = {}
        for step, key in lists.items():
            messages = [json.loads(raw) for raw in reversed(client.lrange(key, 0, -1))]
            found[step] = [(m["headers"]["task"].split(".")[-1], _about(m)) for m in messages]
        return found
    finally:
        client.close()


def _about(message: dict[str, object]) -> str:
    headers = message["headers"]
    assert isinstance(headers, dict)
    return str(headers["kwargsrepr"])


@pytest.mark.parametrize(
    ("students_count", "step"),
    [(0, 0), (1_999, 0), (2_000, 3), (9_999, 3), (10_000, 6), (39_999, 6), (40_000, 9), (900_000, 9)],
)
def test_the_priority_step_grows_with_the_district_size(students_count: int, step: int) -> None:
    assert routing.step_for(students_count) == step


def test_a_large_district_s_tasks_queue_behind_a_small_one_s_whatever_the_order_sent(
    committed_engine: Engine, broker: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = SourceConfig(district=LARGE, name="nightly", inbox=tmp_path)
    with transaction(committed_engine) as session:
        batch_id, _ = register_delivery(
            session, source, write_oneroster(tmp_path / "b", students(12), district=LARGE)
        )
    ingest_batch(committed_engine, batch_id)
    monkeypatch.setattr(routing, "SIZE_STEPS", ((5, 0), (10, 3)))  # 12 records: the largest step

    enqueue_pull(LARGE)
    enqueue_ingest(batch_id, LARGE)
    enqueue_pull(SMALL)
    enqueue_match_district(SMALL)

    lists = queued(broker)
    assert [task for task, _ in lists["0"]] == ["pull_district", "match_district"]
    assert all(SMALL in about for _, about in lists["0"])
    assert [task for task, _ in lists["9"]] == ["pull_district", "ingest_batch"]
    assert lists["3"] == lists["6"] == []
