"""A district's tasks are queued at its size's priority step, so a worker takes small districts'
work before anything a large district has waiting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine

from config.settings import SourceConfig
from models.db import transaction
from tests.fixtures.rosters.bundles import students, write_oneroster
from worker import routing
from worker.enqueue import enqueue_ingest, enqueue_match_district, enqueue_pull
from worker.ingest import ingest_batch
from worker.pull import register_delivery
from worker.schedule import redbeat_redis_url

LARGE, SMALL = "38001", "38002"
SEP = "\x06\x16"  # kombu's separator between a queue's name and its priority step


def queued(url: str) -> dict[str, list[tuple[str, str]]]:
    """Per Redis list of the queue: (task, district or batch) of each message, oldest first."""
    client = redis.Redis.from_url(redbeat_redis_url(url))
    try:
        lists = {"0": "ale_sync", **{str(s): f"ale_sync{SEP}{s}" for s in range(1, 8)}}
        found = {}
        for step, key in lists.items():
            messages = [json.loads(raw) for raw in reversed(client.lrange(key, 0, -1))]
            found[step] = [
                (m["headers"]["task"].split(".")[-1], m["headers"]["kwargsrepr"]) for m in messages
            ]
        return found
    finally:
        client.close()


@pytest.mark.parametrize(
    ("students_count", "size_class"),
    [(0, 0), (1_999, 0), (2_000, 1), (9_999, 1), (10_000, 2), (39_999, 2), (40_000, 3), (900_000, 3)],
)
def test_the_size_class_grows_with_the_district_size(students_count: int, size_class: int) -> None:
    assert routing.size_class(students_count) == size_class


def test_a_large_district_s_tasks_queue_behind_a_small_one_s_whatever_the_order_sent(
    redis_client: redis.Redis,
    committed_engine: Engine,
    broker: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = SourceConfig(district=LARGE, name="nightly", inbox=tmp_path)
    with transaction(committed_engine) as session:
        batch_id, _ = register_delivery(
            session, source, write_oneroster(tmp_path / "b", students(12), district=LARGE)
        )
    ingest_batch(committed_engine, batch_id)
    redis_client.flushdb()  # the ingest published its own batch_applied event: only what follows counts
    monkeypatch.setattr(routing, "SIZE_CLASSES", (5, 10))  # 12 records: class 2 of 0-2

    enqueue_pull(LARGE)
    enqueue_ingest(batch_id, LARGE)
    enqueue_pull(SMALL)
    enqueue_match_district(SMALL)

    lists = {step: [task for task, _ in messages] for step, messages in queued(broker).items() if messages}
    # the small district's match, then its pull; the large one's ingest, then its pull
    assert lists == {
        "0": ["match_district"],
        "1": ["pull_district"],
        "4": ["ingest_batch"],
        "5": ["pull_district"],
    }
