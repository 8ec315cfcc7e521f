"""Safety holds (nothing applied until ops decide), approve and reject, and the dry run."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from config.settings import SourceConfig
from models import AuditEntry, Batch, BatchStatus, OutboxEvent, QuarantinedRow, Student
from models.db import transaction
from tests.fixtures.rosters.bundles import student, students, write_oneroster
from worker.ingest import BatchNotHeld, approve_batch, dry_run, ingest_batch, reject_batch
from worker.pull import register_delivery

DISTRICT = "17099"
SOURCE = SourceConfig(district=DISTRICT, name="test", inbox=Path("/nonexistent"))


def register(engine: Engine, folder: Path) -> int:
    with transaction(engine) as session:
        return register_delivery(session, SOURCE, folder)[0]


def active_count(engine: Engine) -> int:
    with transaction(engine) as session:
        return session.execute(
            select(func.count()).where(Student.district_id == DISTRICT, Student.status == "active")
        ).scalar_one()


@pytest.fixture
def district_of_100(committed_engine, tmp_path) -> Engine:
    ingest_batch(
        committed_engine, register(committed_engine, write_oneroster(tmp_path / "first", students(100)))
    )
    return committed_engine


def test_a_bulk_file_that_would_deactivate_more_than_the_threshold_is_held_with_nothing_applied(
    district_of_100, tmp_path
):
    batch_id = register(district_of_100, write_oneroster(tmp_path / "short", students(89)))

    result = ingest_batch(district_of_100, batch_id)

    assert result.status == BatchStatus.HELD
    assert result.counts["deactivated"] == 11
    assert "would deactivate 11 of 100" in (result.reason or "")
    assert active_count(district_of_100) == 100
    with transaction(district_of_100) as session:
        assert session.execute(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.payload["batch_id"].as_integer() == batch_id)).scalar_one() == 0  # fmt: skip
    assert ingest_batch(district_of_100, batch_id).status == BatchStatus.HELD  # stays held until decided


def test_a_bulk_file_at_the_threshold_is_applied(district_of_100, tmp_path):
    result = ingest_batch(
        district_of_100, register(district_of_100, write_oneroster(tmp_path / "s", students(90)))
    )

    assert (result.status, result.counts["deactivated"]) == (BatchStatus.APPLIED, 10)


def test_a_bulk_file_whose_rows_are_mostly_quarantined_is_held_as_a_shrink(district_of_100, tmp_path):
    rows = students(100)
    for row in rows[:20]:
        row["givenName"] = ""

    result = ingest_batch(district_of_100, register(district_of_100, write_oneroster(tmp_path / "bad", rows)))

    assert result.status == BatchStatus.HELD
    assert (result.counts["quarantined"], result.counts["deactivated"]) == (20, 0)
    assert "shrink" in (result.reason or "")


def test_approving_a_held_batch_applies_it_and_audits_who_decided(district_of_100, tmp_path):
    batch_id = register(district_of_100, write_oneroster(tmp_path / "short", students(50)))
    ingest_batch(district_of_100, batch_id)

    result = approve_batch(district_of_100, batch_id, decided_by="ops-ana")

    assert (result.status, result.counts["deactivated"]) == (BatchStatus.APPLIED, 50)
    assert active_count(district_of_100) == 50
    assert approve_batch(district_of_100, batch_id, decided_by="ops-ana") == result  # idempotent
    with transaction(district_of_100) as session:
        audit = session.execute(select(AuditEntry)).scalar_one()
        batch = session.get(Batch, batch_id)
        assert (audit.action, audit.batch_id, audit.actor_kind) == ("batch_approve", batch_id, "ops")
        assert batch is not None
        assert batch.decided_by == "ops-ana"
        events = session.execute(
            select(OutboxEvent.topic).where(OutboxEvent.district_id == DISTRICT)
        ).scalars()
        assert list(events).count("batch_applied") == 2


def test_rejecting_a_held_batch_applies_nothing_and_cannot_be_approved_after(district_of_100, tmp_path):
    batch_id = register(district_of_100, write_oneroster(tmp_path / "short", students(50)))
    ingest_batch(district_of_100, batch_id)

    result = reject_batch(district_of_100, batch_id, decided_by="ops-ana", reason="export was cut short")

    assert (result.status, result.reason) == (BatchStatus.REJECTED, "export was cut short")
    assert active_count(district_of_100) == 100
    with pytest.raises(BatchNotHeld):
        approve_batch(district_of_100, batch_id, decided_by="ops-ana")


def test_an_applied_batch_cannot_be_approved_or_rejected(district_of_100):
    with pytest.raises(BatchNotHeld):
        reject_batch(district_of_100, 1, decided_by="ops", reason="late")


def test_a_dry_run_reports_the_plan_and_changes_nothing(district_of_100, tmp_path):
    rows = [*students(85), student("stu-new", ssid="12")]
    bundle = write_oneroster(tmp_path / "plan", rows)

    plan = dry_run(bundle, SOURCE)

    assert plan.counts == {
        "inserted": 0, "updated": 0, "unchanged": 85, "deactivated": 15, "quarantined": 1, "ignored": 0,
    }  # fmt: skip
    assert plan.would_hold
    assert [(q.row_number, q.reason_code) for q in plan.quarantined_rows] == [(87, "ssid_pattern")]
    assert active_count(district_of_100) == 100
    with transaction(district_of_100) as session:
        assert session.execute(select(func.count()).select_from(Batch)).scalar_one() == 1
        assert session.execute(select(func.count()).select_from(QuarantinedRow)).scalar_one() == 0


def test_a_dry_run_of_a_broken_delivery_names_why_it_would_be_rejected(committed_engine, tmp_path):
    bundle = write_oneroster(tmp_path / "b", students(3))
    (bundle / "manifest.csv").unlink()

    plan = dry_run(bundle, SOURCE)

    assert plan.reject_reason == "the bundle has no manifest.csv"


def test_a_held_batch_superseded_by_a_newer_applied_one_cannot_be_approved(district_of_100, tmp_path):
    held = register(district_of_100, write_oneroster(tmp_path / "short", students(50)))
    ingest_batch(district_of_100, held)
    newer = ingest_batch(
        district_of_100, register(district_of_100, write_oneroster(tmp_path / "n", students(101)))
    )

    with pytest.raises(BatchNotHeld, match=f"superseded by applied batch {newer.batch_id}"):
        approve_batch(district_of_100, held, decided_by="ops-ana")

    assert active_count(district_of_100) == 101
