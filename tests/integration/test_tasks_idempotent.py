"""Every task run a second time with the same ids changes nothing (in-process, real Postgres and Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, func, select, text

from config.settings import get_settings
from models import Batch, LinkAudit, OutboxEvent
from models.db import transaction
from tests.worker_harness import deliver, save_created_record, sis_rows, source_env
from worker.tasks import ingest_batch_task, match_district_task, pull_district_task

DISTRICT = "39001"


@pytest.fixture
def configured(tmp_path: Path, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    monkeypatch.setenv("SIS_SOURCES", source_env({DISTRICT: inbox}))
    get_settings.cache_clear()
    yield inbox
    get_settings.cache_clear()


def snapshot(engine: Engine) -> dict[str, Any]:
    """Everything a repeated run could touch, including each row's last update time."""
    with transaction(engine) as session:
        return {
            "batches": session.execute(text("SELECT * FROM batches ORDER BY id")).all(),
            "students": session.execute(
                text("SELECT id, status, updated_at FROM students ORDER BY id")
            ).all(),
            "links": session.scalar(select(func.count()).select_from(LinkAudit)),
            "events": session.scalar(select(func.count()).select_from(OutboxEvent)),
        }


def test_pull_ingest_and_match_run_twice_change_nothing_the_second_time(
    committed_engine: Engine, configured: Path
) -> None:
    deliver(configured, "batch-1", sis_rows(3))
    save_created_record(committed_engine, DISTRICT, "Given", "Family1", ssid="5500000001")

    assert pull_district_task(district_id=DISTRICT)["waiting_batches"] == 1
    with transaction(committed_engine) as session:
        batch_id = session.scalars(select(Batch.id).where(Batch.district_id == DISTRICT)).one()
    assert ingest_batch_task(batch_id=batch_id)["outcome"] == "applied"
    assert match_district_task(district_id=DISTRICT, batch_id=batch_id)["linked"] == 1
    before = snapshot(committed_engine)

    assert pull_district_task(district_id=DISTRICT)["waiting_batches"] == 0
    assert ingest_batch_task(batch_id=batch_id)["outcome"] == "applied"
    assert match_district_task(district_id=DISTRICT, batch_id=batch_id)["linked"] == 0
    assert snapshot(committed_engine) == before
    assert before["links"] == 1
