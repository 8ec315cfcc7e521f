"""Queue work for the worker by task name, so nothing that queues work imports the tasks.

Pulls and district matches are single-flight per district (worker/single_flight.py): any number
of triggers while one run waits in the queue become that one run. A district's tasks are queued
at its size's priority step (worker/routing.py), so small districts never wait behind large ones.
"""

from __future__ import annotations

from typing import Any

from worker.celery_app import app
from worker.routing import district_priority
from worker.single_flight import claim_pending, release_pending
from worker.task_names import INGEST_BATCH, MATCH_DISTRICT, PULL_DISTRICT


def send(task_name: str, priority: int = 0, **kwargs: Any) -> str:
    """Queue one task by name at a priority step (0, taken first, unless told); its id."""
    return str(app.send_task(task_name, kwargs=kwargs, priority=priority).id)


def _single_flight(scope: str, district_id: str, task_name: str, **kwargs: Any) -> str | None:
    if not claim_pending(scope, district_id):
        return None
    try:
        priority = district_priority(district_id, pull=task_name == PULL_DISTRICT)
        return send(task_name, priority, district_id=district_id, **kwargs)
    except Exception:
        release_pending(scope, district_id)
        raise


def enqueue_pull(district_id: str) -> str | None:
    """Queue a pull of the district unless one is already queued; the task id, or None if collapsed."""
    return _single_flight("pull", district_id, PULL_DISTRICT)


def enqueue_match_district(district_id: str, batch_id: int | None = None) -> str | None:
    """Queue a match of the district unless one is queued and not yet started (it will cover this)."""
    return _single_flight("match", district_id, MATCH_DISTRICT, batch_id=batch_id)


def enqueue_ingest(batch_id: int, district_id: str) -> str:
    return send(INGEST_BATCH, district_priority(district_id), batch_id=batch_id)
