"""What processes do, counted where it happens: ingest durations and rows, task failures and retries.

With PROMETHEUS_MULTIPROC_DIR set (it must be set before the process starts, so Celery's pool
children and uvicorn's workers inherit it), every process writes its values to files there and
the web's /metrics sums them; without it they stay in the one process.
"""

from __future__ import annotations

from typing import Any

from celery import signals
from prometheus_client import Counter, Histogram

INGEST_SECONDS = Histogram(
    "ale_sync_ingest_duration_seconds",
    "Time to ingest one batch, by its kind and outcome.",
    ["kind", "status"],
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800),
)
INGEST_ROWS = Counter(
    "ale_sync_ingest_rows_total", "SIS rows ingested, by what happened to them.", ["outcome"]
)
TASK_FAILURES = Counter(
    "ale_sync_task_failures_total", "Task runs that failed for good (no retry left or not retried).", ["task"]
)
TASK_RETRIES = Counter(
    "ale_sync_task_retries_total", "Task runs that failed and were queued again.", ["task"]
)
ROW_OUTCOMES = ("inserted", "updated", "unchanged", "deactivated", "quarantined", "ignored")


def observe_ingest(kind: str | None, status: str, seconds: float, counts: dict[str, int]) -> None:
    INGEST_SECONDS.labels(kind=kind or "unknown", status=status).observe(seconds)
    for outcome in ROW_OUTCOMES:
        if counts.get(outcome):
            INGEST_ROWS.labels(outcome=outcome).inc(counts[outcome])


def _task_name(sender: Any) -> str:
    name = getattr(sender, "name", None)
    # only our own task names become label values
    return str(name) if isinstance(name, str) and name.startswith("ale_sync.") else "other"


def _count_failure(sender: Any = None, **_: Any) -> None:
    TASK_FAILURES.labels(task=_task_name(sender)).inc()


def _count_retry(sender: Any = None, **_: Any) -> None:
    TASK_RETRIES.labels(task=_task_name(sender)).inc()


# connected by a call rather than as decorators: celery's untyped decorators would untype them
signals.task_failure.connect(_count_failure, weak=False)
signals.task_retry.connect(_count_retry, weak=False)
