"""Send the events a request committed right after its answer, so the worker hears within seconds.

The request's transaction has committed by then; if Redis is down the send fails quietly and
the beat's outbox sweep sends the events later, so nothing is lost either way.
"""

from __future__ import annotations

from starlette.background import BackgroundTask

from worker.outbox import publish_pending


def publish_district_events(district_id: str) -> BackgroundTask:
    return BackgroundTask(publish_pending, district_id=district_id)
