"""A district's first load goes into a partition of its own, built after the rows; any other load,
and a first load that cannot have the locks it needs, goes into the shared table row by row."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from config.settings import SourceConfig
from models import BatchStatus, District, LearningPlan, Origin, Student
from models.db import transaction
from models.student import partition_name
from tests.fixtures.rosters.bundles import students, write_oneroster
from worker.ingest import first_load, ingest_batch
from worker.pull import register_delivery

LOAD = first_load.FIRST_LOAD_MIN


def new_district() -> str:
    return f"9{uuid.uuid4().int % 10**7:07d}"


def deliver(engine: Engine, folder: Path, district: str, users, note: str = ""):
    write_oneroster(folder, users, district=district, note=note)
    source = SourceConfig(district=district, name="test", inbox=folder.parent)
    with transaction(engine) as session:
        batch_id, _ = register_delivery(session, source, folder)
    return ingest_batch(engine, batch_id)


def tables_holding(engine: Engine, district: str) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT tableoid::regclass::text, count(*) FROM students WHERE district_id = :d GROUP BY 1"),
            {"d": district},
        ).all()
    return dict(rows)


def index_count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT count(*) FROM pg_index WHERE indrelid = CAST(:t AS regclass)"), {"t": table}
            ).scalar_one()
        )


def test_a_first_load_gets_a_partition_with_every_index_key_and_check_of_the_table(
    committed_engine, tmp_path
):
    district = new_district()
    users = students(LOAD, prefix="p")
    result = deliver(committed_engine, tmp_path / "first", district, users)

    assert result.status == BatchStatus.APPLIED
    assert result.counts["inserted"] == LOAD
    partition = partition_name(district)
    assert tables_holding(committed_engine, district) == {partition: LOAD}
    assert index_count(committed_engine, partition) == index_count(committed_engine, "students")
    with committed_engine.connect() as connection:
        helper = connection.execute(
            text(
                "SELECT count(*) FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) AND contype = 'c'"
            ),
            {"t": partition},
        ).scalar_one()
        parent_checks = connection.execute(
            text("SELECT count(*) FROM pg_constraint WHERE conrelid = 'students'::regclass AND contype = 'c'")
        ).scalar_one()
        keys = connection.execute(
            text("SELECT search_last, search_first FROM students WHERE district_id = :d LIMIT 1"),
            {"d": district},
        ).one()
    assert helper == parent_checks  # the load's own district check is gone; the table's are all there
    assert keys == ("lee", "ana")

    # the partition's keys hold: a second record with a stored SIS source id is refused ...
    with pytest.raises(IntegrityError), transaction(committed_engine) as session:
        session.add(
            Student(
                district_id=district, origin=Origin.SIS, sis_source_id="p-1", first_name="X", last_name="Y"
            )
        )
        session.flush()
    # ... and its records can carry learning plans (the foreign keys reach the new partition)
    with transaction(committed_engine) as session:
        record = session.query(Student).filter_by(district_id=district, sis_source_id="p-7").one()
        session.add(
            LearningPlan(
                district_id=district,
                student_id=record.id,
                started_on_student_id=record.id,
                school_year="2026-27",
                start_date=date(2026, 9, 1),
            )
        )
    # the next delivery of the district goes into its partition the usual way
    again = deliver(
        committed_engine, tmp_path / "again", district, [*users, *students(LOAD + 3, LOAD, "p")], "2"
    )
    assert again.counts["unchanged"] == LOAD
    assert again.counts["inserted"] == 3
    assert tables_holding(committed_engine, district) == {partition: LOAD + 3}


def test_a_district_that_already_has_records_loads_into_the_shared_table(committed_engine, tmp_path):
    district = new_district()
    with transaction(committed_engine) as session:
        session.add(District(id=district, name="District"))
        session.flush()
        session.add(Student(district_id=district, origin=Origin.CREATED, first_name="Ana", last_name="Lee"))

    result = deliver(committed_engine, tmp_path / "first", district, students(LOAD, prefix="q"))

    assert result.counts["inserted"] == LOAD
    assert tables_holding(committed_engine, district) == {"students_default": LOAD + 1}


def test_a_small_first_load_loads_into_the_shared_table(committed_engine, tmp_path):
    district = new_district()
    result = deliver(committed_engine, tmp_path / "first", district, students(5))

    assert result.counts["inserted"] == 5
    assert tables_holding(committed_engine, district) == {"students_default": 5}


def test_a_first_load_that_cannot_lock_the_default_partition_loads_the_usual_way(
    committed_engine, tmp_path, monkeypatch
):
    """Attaching scans students_default under a lock; another session holding it costs the load
    LOCK_WAIT, then the rows go in row by row and the batch still applies."""
    monkeypatch.setattr(first_load, "LOCK_WAIT", "300ms")
    district = new_district()
    with committed_engine.connect() as other:
        other.execute(text("LOCK TABLE students_default IN ACCESS SHARE MODE"))
        result = deliver(committed_engine, tmp_path / "first", district, students(LOAD, prefix="r"))
        other.rollback()

    assert result.status == BatchStatus.APPLIED
    assert tables_holding(committed_engine, district) == {"students_default": LOAD}
    with committed_engine.connect() as connection:
        left = connection.execute(
            text("SELECT to_regclass(:t)"), {"t": partition_name(district)}
        ).scalar_one()
    assert left is None


def test_a_record_created_in_the_district_during_its_first_load_sends_the_load_the_usual_way(
    committed_engine, tmp_path, monkeypatch
):
    """A registrar saves a record of the district while its first load waits to attach: the attach
    would find it in students_default, so the load is rolled back to its savepoint and its rows go
    into the shared table beside that record."""
    monkeypatch.setattr(first_load, "LOCK_WAIT", "60s")
    district = new_district()
    with transaction(committed_engine) as session:
        session.add(District(id=district, name="District"))
    outcome: dict[str, object] = {}
    with committed_engine.connect() as registrar:
        registrar.execute(text("LOCK TABLE students_default IN ACCESS SHARE MODE"))
        loading = threading.Thread(
            target=lambda: outcome.update(
                result=deliver(committed_engine, tmp_path / "first", district, students(LOAD, prefix="s"))
            )
        )
        loading.start()
        deadline = time.monotonic() + 60
        while not attach_waiting(committed_engine):
            assert time.monotonic() < deadline, "the first load never reached its attach"
            time.sleep(0.05)
        registrar.execute(
            text(
                "INSERT INTO students (district_id, origin, status, first_name, last_name)"
                " VALUES (:d, 'created', 'active', 'Ana', 'Lee')"
            ),
            {"d": district},
        )
        registrar.commit()
        loading.join(60)

    result = outcome["result"]
    assert result.status == BatchStatus.APPLIED  # type: ignore[attr-defined]
    assert tables_holding(committed_engine, district) == {"students_default": LOAD + 1}
    with committed_engine.connect() as connection:
        left = connection.execute(
            text("SELECT to_regclass(:t)"), {"t": partition_name(district)}
        ).scalar_one()
    assert left is None


def attach_waiting(engine: Engine) -> bool:
    with engine.connect() as connection:
        return bool(
            connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND query LIKE 'ALTER TABLE students ATTACH%'"
                )
            ).scalar_one()
        )
