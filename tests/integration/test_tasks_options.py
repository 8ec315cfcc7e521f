"""The tasks' declared options and their retry rule, checked against the registered Celery tasks."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import errors as pg_errors
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from structlog.testing import capture_logs

from worker.celery_app import app
from worker.limits import VISIBILITY_TIMEOUT_SECONDS
from worker.task_base import TransientFailure, canonical, is_transient

# what a worker registers as it starts: the modules the app names in `include`
app.loader.import_default_modules()
OUR_TASKS = sorted(name for name in app.tasks if name.startswith("ale_sync."))


def test_all_seven_kinds_of_work_are_registered_as_tasks() -> None:
    assert OUR_TASKS == [
        "ale_sync.ingest_batch",
        "ale_sync.match_district",
        "ale_sync.nightly_rematch",
        "ale_sync.publish_outbox",
        "ale_sync.pull_all_sources",
        "ale_sync.pull_district",
        "ale_sync.send_notifications",
    ]


@pytest.mark.parametrize("name", OUR_TASKS)
def test_every_task_acks_late_retries_with_jitter_and_nests_its_time_limits(name: str) -> None:
    task = app.tasks[name]
    soft = task.soft_time_limit or app.conf.task_soft_time_limit
    hard = task.time_limit or app.conf.task_time_limit
    assert task.acks_late and task.reject_on_worker_lost
    assert TransientFailure in task.autoretry_for
    assert task.retry_backoff and task.retry_jitter and task.max_retries
    assert 0 < soft < hard < VISIBILITY_TIMEOUT_SECONDS
    assert app.conf.broker_transport_options["visibility_timeout"] == VISIBILITY_TIMEOUT_SECONDS


def test_the_worker_takes_one_message_at_a_time() -> None:
    assert app.conf.worker_prefetch_multiplier == 1


def wrapped(orig: Exception) -> DBAPIError:
    return OperationalError("statement", {}, orig)


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (wrapped(pg_errors.SerializationFailure("serialization")), True),  # concurrent update
        (wrapped(pg_errors.DeadlockDetected("deadlock")), True),  # two lockers, one aborted
        (wrapped(psycopg.OperationalError("connection refused")), True),  # database restarting
        (wrapped(pg_errors.QueryCanceled("timeout")), False),  # a statement limit: would repeat
        (IntegrityError("statement", {}, pg_errors.UniqueViolation("dup")), False),  # a bug or bad data
        (ValueError("bad input"), False),  # not a database error at all
    ],
)
def test_only_connection_serialization_and_deadlock_failures_are_retried(
    error: Exception, retry: bool
) -> None:
    assert is_transient(error) is retry


def test_a_real_serialization_failure_from_postgres_is_retried(committed_engine: Engine) -> None:
    with committed_engine.connect() as setup:
        setup.execute(text("CREATE TABLE IF NOT EXISTS retry_probe (id int PRIMARY KEY, n int)"))
        setup.execute(text("INSERT INTO retry_probe VALUES (1, 0) ON CONFLICT DO NOTHING"))
        setup.commit()
    first = committed_engine.connect().execution_options(isolation_level="REPEATABLE READ")
    second = committed_engine.connect().execution_options(isolation_level="REPEATABLE READ")
    try:
        first.execute(text("SELECT n FROM retry_probe"))
        second.execute(text("UPDATE retry_probe SET n = n + 1"))
        second.commit()
        with pytest.raises(DBAPIError) as raised:
            first.execute(text("UPDATE retry_probe SET n = n + 1"))
        assert is_transient(raised.value)
    finally:
        first.close()
        second.close()
        with committed_engine.begin() as cleanup:
            cleanup.execute(text("DROP TABLE retry_probe"))


def failing_task(error: Exception) -> Any:
    @canonical("probe")
    def body(*, district_id: str) -> dict[str, Any]:
        raise error

    return body


def test_a_deadlock_is_logged_as_retrying_and_raised_for_celery_to_retry() -> None:
    body = failing_task(wrapped(pg_errors.DeadlockDetected("deadlock")))
    with capture_logs() as logs, pytest.raises(TransientFailure) as raised:
        body(district_id="38001")
    assert str(raised.value) == "DeadlockDetected"
    assert [(e["event"], e["outcome"], e["error"]) for e in logs] == [
        ("task_finished", "retrying", "OperationalError")
    ]


def test_bad_data_is_logged_as_failed_and_not_retried() -> None:
    body = failing_task(ValueError("row 7"))
    with capture_logs() as logs, pytest.raises(ValueError):
        body(district_id="38001")
    assert [(e["event"], e["outcome"], e["error"]) for e in logs] == [
        ("task_finished", "failed", "ValueError")
    ]
