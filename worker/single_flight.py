"""Single flight per district: a Redis mark collapses duplicate messages, Postgres locks guard.

`claim_pending` is set when a district's pull or match is enqueued and cleared when that run
starts, so any number of triggers (beat, ops resync, events) while one run waits in the queue
become that one run, and a trigger arriving after the run started still gets a run of its own.
It is only a short-circuit: if Redis loses the mark, the advisory locks in Postgres still keep
two runs of one district's ingest or match from ever overlapping.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import redis
from sqlalchemy import Engine, text

from models.db import district_lock_key
from worker.celery_app import app
from worker.limits import VISIBILITY_TIMEOUT_SECONDS
from worker.schedule import redbeat_redis_url


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(redbeat_redis_url(url), socket_connect_timeout=3, socket_timeout=5)


def _redis() -> redis.Redis:
    return _client(str(app.conf.broker_url))


def _key(scope: str, district_id: str) -> str:
    return f"ale_sync:pending:{scope}:{district_id}"


def claim_pending(scope: str, district_id: str) -> bool:
    """True if no run of this scope is queued for the district yet (the caller must enqueue one)."""
    # the mark outlives a lost message by at most the broker's redelivery window
    return bool(_redis().set(_key(scope, district_id), "1", nx=True, ex=VISIBILITY_TIMEOUT_SECONDS))


def release_pending(scope: str, district_id: str) -> None:
    """Called as a run starts (or when its enqueue failed): later triggers enqueue a new run."""
    _redis().delete(_key(scope, district_id))


@contextmanager
def district_session_lock(engine: Engine, scope: str, district_id: str) -> Iterator[None]:
    """Hold the district's advisory lock across work that commits several transactions itself."""
    key = district_lock_key(scope, district_id)
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            connection.commit()
