"""One ingest per district at a time, districts in parallel, and a killed ingest leaves all or nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.exc import OperationalError
from structlog.testing import capture_logs

from config.settings import SourceConfig
from models import Batch, BatchStatus, School, Student
from models.db import lock_district, transaction
from models.student import partition_name
from tests.fixtures.rosters.bundles import students, write_oneroster
from worker.ingest import ingest_batch
from worker.ingest.first_load import FIRST_LOAD_MIN
from worker.ops_queries import district_status
from worker.pull import register_delivery

ROOT = Path(__file__).resolve().parents[2]


def register(engine: Engine, folder: Path, district: str) -> int:
    source = SourceConfig(district=district, name="test", inbox=folder.parent)
    with transaction(engine) as session:
        return register_delivery(session, source, folder)[0]


def student_count(engine: Engine, district: str) -> int:
    with transaction(engine) as session:
        return session.execute(select(func.count()).where(Student.district_id == district)).scalar_one()


def wait_for(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def backend_waiting_on(engine: Engine, statement: str) -> int | None:
    with engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE '%' || :q || '%'"
            ),
            {"q": statement},
        ).scalar()


def test_a_second_ingest_of_the_same_district_waits_for_the_first(committed_engine, tmp_path):
    batch_id = register(committed_engine, write_oneroster(tmp_path / "a", students(5)), "17099")
    results = []
    with transaction(committed_engine) as holder:
        lock_district(holder, "ingest", "17099")  # another ingest of the district is running
        worker = threading.Thread(target=lambda: results.append(ingest_batch(committed_engine, batch_id)))
        worker.start()
        wait_for(lambda: backend_waiting_on(committed_engine, "SELECT pg_advisory_xact_lock") is not None)
        assert student_count(committed_engine, "17099") == 0
    worker.join(30)

    assert [r.status for r in results] == [BatchStatus.APPLIED]
    assert student_count(committed_engine, "17099") == 5


def test_another_district_ingests_while_one_district_is_locked(committed_engine, tmp_path):
    batch_id = register(
        committed_engine, write_oneroster(tmp_path / "b", students(4), district="27010"), "27010"
    )
    with transaction(committed_engine) as holder:
        lock_district(holder, "ingest", "17099")

        result = ingest_batch(committed_engine, batch_id)

        assert result.status == BatchStatus.APPLIED
    assert student_count(committed_engine, "27010") == 4


def start_ingest_process(database_url: str, batch_id: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url, "SIS_SOURCES": "[]", "LOG_FORMAT": "json"}
    code = (
        "from models.db import get_engine; from worker.ingest import ingest_batch; "
        f"ingest_batch(get_engine(), {batch_id})"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def kill(process: subprocess.Popen[bytes], engine: Engine, backend: int | None) -> None:
    """SIGKILL the worker process; its server backend goes with it, as when the machine dies."""
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    if backend is not None:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})


def test_a_first_load_killed_after_its_partition_is_attached_leaves_nothing_and_completes_again(
    committed_engine, database_url, tmp_path
):
    """The first-load path creates and attaches a table inside the batch's transaction: a kill
    after the attach leaves neither rows nor the table, and the batch runs again to the end."""
    district = "17377"
    rows = students(FIRST_LOAD_MIN + 1)
    rows[0]["givenName"] = ""  # one quarantined row: the quarantine step comes after the attach
    batch_id = register(committed_engine, write_oneroster(tmp_path / "k", rows, district=district), district)
    with committed_engine.connect() as holder:
        holder.execute(text("LOCK TABLE quarantined_rows IN EXCLUSIVE MODE"))
        process = start_ingest_process(database_url, batch_id)
        wait_for(
            lambda: backend_waiting_on(committed_engine, "DELETE FROM quarantined_rows") is not None, 120
        )
        kill(process, committed_engine, backend_waiting_on(committed_engine, "DELETE FROM quarantined_rows"))
        holder.rollback()

    partition = partition_name(district)
    with committed_engine.connect() as connection:
        assert connection.execute(text("SELECT to_regclass(:t)"), {"t": partition}).scalar_one() is None
    assert student_count(committed_engine, district) == 0

    result = ingest_batch(committed_engine, batch_id)

    assert (result.status, result.counts["inserted"]) == (BatchStatus.APPLIED, FIRST_LOAD_MIN)
    with committed_engine.connect() as connection:
        homes = connection.execute(
            text("SELECT DISTINCT tableoid::regclass::text FROM students WHERE district_id = :d"),
            {"d": district},
        ).scalars()
        assert list(homes) == [partition]


@pytest.mark.parametrize(
    ("blocked_table", "blocked_statement"),
    [
        # killed before its first write to students: schools are already written in its transaction
        ("students", "INSERT INTO students"),
        # killed after every student row is written, before the quarantine and the ledger update
        ("quarantined_rows", "DELETE FROM quarantined_rows"),
    ],
)
def test_an_ingest_killed_mid_batch_leaves_nothing_and_running_it_again_completes_it(
    committed_engine, database_url, tmp_path, blocked_table, blocked_statement
):
    rows = students(300)
    rows[0]["givenName"] = ""  # one quarantined row, so the quarantine step runs
    batch_id = register(committed_engine, write_oneroster(tmp_path / "k", rows), "17099")
    with committed_engine.connect() as holder:
        holder.execute(text(f"LOCK TABLE {blocked_table} IN EXCLUSIVE MODE"))
        process = start_ingest_process(database_url, batch_id)
        wait_for(lambda: backend_waiting_on(committed_engine, blocked_statement) is not None)
        kill(process, committed_engine, backend_waiting_on(committed_engine, blocked_statement))
        holder.rollback()

    assert student_count(committed_engine, "17099") == 0
    with transaction(committed_engine) as session:
        assert session.execute(select(func.count()).select_from(School)).scalar_one() == 0
        assert session.get(Batch, batch_id).status == BatchStatus.INGESTING  # visibly unfinished

    result = ingest_batch(committed_engine, batch_id)

    assert (result.status, result.counts["inserted"], result.counts["quarantined"]) == (
        BatchStatus.APPLIED,
        299,
        1,
    )


def test_an_ingest_killed_at_a_random_moment_leaves_all_or_nothing(committed_engine, database_url, tmp_path):
    batch_id = register(committed_engine, write_oneroster(tmp_path / "r", students(3000)), "17099")
    process = start_ingest_process(database_url, batch_id)
    time.sleep(0.3 + (os.getpid() % 7) / 10)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    wait_for(lambda: _no_backend_left(committed_engine))  # its server backend has rolled back

    with transaction(committed_engine) as session:
        status = session.get(Batch, batch_id).status
    assert student_count(committed_engine, "17099") == (3000 if status == BatchStatus.APPLIED else 0)

    result = ingest_batch(committed_engine, batch_id)

    assert (result.status, student_count(committed_engine, "17099")) == (BatchStatus.APPLIED, 3000)


def _no_backend_left(engine: Engine) -> bool:
    with engine.connect() as connection:
        busy = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state <> 'idle'"
            )
        ).scalar_one()
    return busy == 0


# the error's class as the driver names it, its SQLSTATE, and the step it stopped in
GAVE_UP = "LockNotAvailable (SQLSTATE 55P03) while inserting new SIS records"


def test_an_ingest_that_fails_is_marked_failed_applies_nothing_and_completes_when_run_again(
    committed_engine, database_url, tmp_path
):
    batch_id = register(committed_engine, write_oneroster(tmp_path / "f", students(50)), "17099")
    # the database gives up waiting for a lock: an error ingest does not expect
    impatient = create_engine(database_url, connect_args={"options": "-c lock_timeout=300"})
    try:
        with committed_engine.connect() as holder:
            holder.execute(text("LOCK TABLE students IN EXCLUSIVE MODE"))
            with capture_logs() as logs, pytest.raises(OperationalError):
                ingest_batch(impatient, batch_id)
            holder.rollback()
    finally:
        impatient.dispose()

    with transaction(committed_engine) as session:
        batch = session.get(Batch, batch_id)
        assert (batch.status, batch.error, batch.inserted) == (BatchStatus.FAILED, GAVE_UP, 0)
        assert batch.finished_at is not None
    assert student_count(committed_engine, "17099") == 0
    assert [entry["error_type"] for entry in logs if entry["event"] == "ingest.batch_failed"] == [
        "OperationalError"
    ]
    with transaction(committed_engine) as session:
        (status,) = district_status(session, "17099")
    assert status["last_error"] == f"batch {batch_id} failed: {GAVE_UP}"  # what ops see

    result = ingest_batch(committed_engine, batch_id)

    assert (result.status, result.counts["inserted"]) == (BatchStatus.APPLIED, 50)
