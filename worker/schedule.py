"""The beat schedule, built from settings (one place per interval), and RedBeat's Redis URL.

RedBeat keeps the schedule in Redis behind a lock, so only one beat process sends; a second
one waits for the lock. The database locks in the tasks hold even if two beats ever fired.
"""

from __future__ import annotations

import json
from typing import Any

import redis.exceptions
import structlog
from celery.schedules import crontab
from redbeat.schedulers import RedBeatScheduler, get_redis

from config.services import redis_py_url
from config.settings import get_settings
from worker.task_names import NIGHTLY_REMATCH, PUBLISH_OUTBOX, PULL_ALL_SOURCES, SEND_NOTIFICATIONS

logger = structlog.get_logger(__name__)


# the schedule entry of the pull, which a starting beat sends at once
PULL_ENTRY = "pull-sis-sources"


def beat_schedule() -> dict[str, dict[str, Any]]:
    settings = get_settings()
    return {
        PULL_ENTRY: {
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
        "send-notifications": {
            "task": SEND_NOTIFICATIONS,
            "schedule": float(settings.notify_interval_seconds),
            "options": {"expires": float(settings.notify_interval_seconds)},
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

    def setup_schedule(self) -> None:
        super().setup_schedule()
        self._pull_at_once()

    def _pull_at_once(self) -> None:
        """Make the pull due now: a starting beat pulls at once, then every interval.

        RedBeat keeps each entry's last run in Redis (and Celery stamps a new entry "run now"),
        so without this the first pull would come one full interval after start. A standby
        beat starting too only makes the pull due early; the pull is single-flight per district.
        """
        key = self.Entry.generate_key(self.app, PULL_ENTRY)
        with get_redis(self.app).pipeline() as pipe:
            pipe.hset(key, "meta", json.dumps({"last_run_at": None}))
            # the schedule's sorted set is scored by due time; 0 sorts first, so it runs next tick
            pipe.zadd(self.app.redbeat_conf.schedule_key, {key: 0})
            pipe.execute()
        logger.info("beat_pull_due_at_start")

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
