"""GET /metrics against real Postgres: the stored state as the database has it, the process
metrics beside it, no student data in any label, and the documented alert rules name only
metrics that exist."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlalchemy import Engine
from sqlalchemy import text as sql

from admin.app import app
from config.settings import SourceConfig
from matching.core.vocabulary import Topic
from models import BatchStatus
from models.db import transaction
from models.outbox import record_event
from tests.admin_support import TestClient
from tests.conftest import ROOT
from tests.notify_support import add_batch, add_district, add_waiting_records, set_env
from tests.worker_harness import save_created_record, sis_rows
from worker.ingest import ingest_batch
from worker.pull import register_delivery
from worker.sample_roster import write_bundle
from worker.sync import match_one_district

DISTRICT = "34001"
PII = ("Given", "Family2", "5500000002", "Priya", "Raman", "5512345678", "Noa", "Lee", "5587654321")


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client


@pytest.fixture
def district_with_history(committed_engine: Engine, tmp_path: Path) -> str:
    """One ingested batch that linked a record, three records waiting (one held), one held batch."""
    add_district(committed_engine, DISTRICT)
    save_created_record(committed_engine, DISTRICT, "Given", "Family2", ssid="5500000002")
    bundle = write_bundle(tmp_path / "bundle", sis_rows(4))
    source = SourceConfig(district=DISTRICT, name="sis", inbox=tmp_path, format="oneroster")
    with transaction(committed_engine) as session:
        batch_id, _ = register_delivery(session, source, bundle)
    ingest_batch(committed_engine, batch_id)
    match_one_district(committed_engine, DISTRICT)
    add_waiting_records(committed_engine, DISTRICT, days_old=10)
    add_batch(committed_engine, DISTRICT, BatchStatus.HELD, hold_reason="deactivates_too_many")
    return DISTRICT


def samples(text: str) -> list[Sample]:
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def value(text: str, name: str, **labels: str) -> float:
    found = [s.value for s in samples(text) if s.name == name and labels.items() <= s.labels.items()]
    assert len(found) == 1, (name, labels, found)
    return found[0]


def test_metrics_show_the_stored_state_per_district(client: TestClient, district_with_history: str) -> None:
    answer = client.get("/metrics")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    d = district_with_history
    assert value(text, "ale_sync_batches", district=d, status="applied") == 1
    assert value(text, "ale_sync_batches", district=d, status="held") == 1
    assert value(text, "ale_sync_links_total", district=d, method="ssid", actor="system") == 1
    assert value(text, "ale_sync_holds", district=d, reason="name_mismatch") == 1
    assert value(text, "ale_sync_unlinked", district=d, state="held") == 1
    assert value(text, "ale_sync_unlinked", district=d, state="waiting_for_sis") == 1
    assert value(text, "ale_sync_unlinked", district=d, state="needs_staff") == 1
    assert value(text, "ale_sync_unlinked_by_age", district=d, age="7d_to_30d") == 2
    assert value(text, "ale_sync_unlinked_by_age", district=d, age="under_1d") == 1
    assert 10 * 86_400 <= value(text, "ale_sync_unlinked_oldest_age_seconds", district=d) < 11 * 86_400
    assert value(text, "ale_sync_outbox_unpublished") >= 0
    assert value(text, "ale_sync_last_delivery_age_seconds", district=d) < 3600
    # the ingest ran in this process, so its histogram has it
    assert value(text, "ale_sync_ingest_duration_seconds_count", kind="bulk", status="applied") >= 1
    assert value(text, "ale_sync_ingest_rows_total", outcome="inserted") >= 4


def test_no_label_value_carries_a_student_name_or_identifier(
    client: TestClient, district_with_history: str
) -> None:
    text = client.get("/metrics").text

    label_values = {v for s in samples(text) for v in s.labels.values()}
    assert [v for v in label_values if any(p in v for p in PII)] == []
    assert [p for p in PII if re.search(rf"\b{p}\b", text)] == []


def test_an_unpublished_event_shows_as_backlog_with_its_age(
    client: TestClient, committed_engine: Engine
) -> None:
    add_district(committed_engine, DISTRICT)
    with transaction(committed_engine) as session:
        record_event(session, Topic.BATCH_APPLIED, DISTRICT, batch_id=1)
        session.execute(sql("UPDATE outbox_events SET created_at = now() - interval '90 seconds'"))

    text = client.get("/metrics").text

    assert value(text, "ale_sync_outbox_unpublished") == 1
    assert 90 <= value(text, "ale_sync_outbox_oldest_unpublished_age_seconds") < 120


def test_with_a_metrics_token_a_scrape_must_send_it(
    client: TestClient, committed_engine: Engine, monkeypatch: pytest.MonkeyPatch, settings_restored: None
) -> None:
    set_env(monkeypatch, METRICS_TOKEN="s3cret-scrape-token")

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape-token"}).status_code == 200


def documented_rules() -> dict[str, object]:
    text = (ROOT / "docs" / "operations.md").read_text()
    block = re.search(
        r"<!-- alert-rules:start -->\s*```yaml\n(.*?)```\s*<!-- alert-rules:end -->", text, re.S
    )
    assert block is not None, "the alert rules block is missing from docs/operations.md"
    rules: dict[str, object] = yaml.safe_load(block.group(1))
    return rules


def test_the_documented_alert_rules_parse_and_name_only_metrics_that_exist(
    client: TestClient, district_with_history: str
) -> None:
    exposed = {family.name for family in text_string_to_metric_families(client.get("/metrics").text)}
    rules = documented_rules()

    [group] = rules["groups"]  # type: ignore[index]
    assert group["name"] == "ale-sync"
    named: set[str] = set()
    for rule in group["rules"]:
        assert {"alert", "expr", "labels", "annotations"} <= rule.keys()
        assert rule["labels"]["severity"] in {"page", "ticket"}
        named |= set(re.findall(r"\bale_sync_[a-z_]+", rule["expr"]))
    # a histogram's samples and a counter's _total belong to the family the parser names
    families = {re.sub(r"_(bucket|count|sum|total)$", "", name) for name in named}
    assert len(group["rules"]) >= 6
    assert families - exposed == set()
