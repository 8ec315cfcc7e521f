"""Fixtures the end-to-end worker tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.worker_harness import OwnRedis, celery_pointed_at


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """A redis-server of the test's own (so it can stop and start it), with Celery pointed at it."""
    server = OwnRedis(tmp_path)
    server.start()
    with celery_pointed_at(server.url):
        yield server
    server.stop()
