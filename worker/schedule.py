"""The beat schedule, built from settings (one place per interval), and RedBeat's Redis URL.

RedBeat keeps the schedule in Redis behind a lock, so only one beat process sends; a second
one waits for the lock. The database locks in the tasks hold even if two beats ever fired.
"""

from __future__ import annotations

from typing import Any

import redis.exceptions
import structlog
from celery.schedules import crontab
from redbeat.schedulers import RedBeatScheduler

from config.services import redis_py_url
from config.settings import get_settings
from worker.task_names import NIGHTLY_REMATCH, PUBLISH_OUTBOX, PULL_ALL_SOURCES

logger = structlog.get_logger(__name__)


def beat_schedule() -> dict[str, dict[str, Any]]:
    settings = get_settings()
    return {
        "pull-sis-sources": {
            "task": PULL_ALL_SOURCES,
            "schedule": float(settings.pull_interval_seconds),
            # a pull older than its interval is superseded by the next one
            "options": {"expires": float(settings.pull_interval_seconds)},
        },
        "sweep-outbox": {
            "task": PUBLISH_OUTBOX,
            "schedule": float(settings.outbox_sweep_seconds),
            "options": {"expires": float(settings.outbox_sweep_seconds)},
        },
        "nightly-rematch": {
            "task": NIGHTLY_REMATCH,
            "schedule": crontab(minute=0, hour=settings.nightly_rematch_hour),
        },
    }


def redbeat_redis_url(broker_url: str) -> str:
    """RedBeat talks to Redis through redis-py, which spells the broker's URL its own way."""
    return redis_py_url(broker_url)


class SteadyRedBeatScheduler(RedBeatScheduler):  # type: ignore[misc]  # redbeat ships no type hints
    """RedBeat that outlives a Redis restart instead of exiting.

    Plain RedBeat extends its lock on every tick and crashes when Redis is unreachable or
    restarted without its data (the lock and the schedule are gone). Here beat waits out
    the outage, takes the lock again (waiting as a standby if another beat took it first),
    and re-installs the schedule before it sends anything.
    """

    # seconds between attempts while Redis is unreachable
    outage_retry_seconds = 2.0

    def tick(self, *args: Any, **kwargs: Any) -> float:
        try:
            return float(super().tick(*args, **kwargs))
        except redis.exceptions.LockNotOwnedError:
            logger.warning("beat_lock_lost")
            return self._reacquire()
        except redis.exceptions.ConnectionError:
            logger.warning("beat_redis_unreachable")
            return self.outage_retry_seconds

    def _reacquire(self) -> float:
        try:
            self.lock.acquire(blocking=True)
            self.setup_schedule()
        except redis.exceptions.ConnectionError:
            return self.outage_retry_seconds
        logger.info("beat_lock_reacquired")
        return 0.0
