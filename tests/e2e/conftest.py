"""Fixtures the end-to-end worker tests share."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.worker_harness import OwnRedis, celery_pointed_at, source_env
from worker.worker_process import WorkerProcess, start_worker, wait_until_ready

StartWorker = Callable[..., WorkerProcess]


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """A redis-server of the test's own (so it can stop and start it), with Celery pointed at it."""
    server = OwnRedis(tmp_path)
    server.start()
    with celery_pointed_at(server.url):
        yield server
    server.stop()


@pytest.fixture
def worker_district() -> str:
    """The district the `workers` fixture's source delivers for; a test module may override it."""
    return "32001"


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


@pytest.fixture
def worker_env(database_url: str, own_redis: OwnRedis, inbox: Path, worker_district: str) -> dict[str, str]:
    """What a worker (or a CLI command beside it) needs: the test's database, Redis and inbox."""
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": own_redis.url,
        "SIS_SOURCES": source_env({worker_district: inbox}),
    }


@pytest.fixture
def workers(tmp_path: Path, worker_env: dict[str, str], committed_engine: Engine) -> Iterator[StartWorker]:
    """Start real `celery worker` processes (beat embedded if asked), killed after the test.

    Their temporary files go to a folder of their own, removed after them: a killed pool leaves
    its temporary folders behind. (A short path under the system's: it may hold sockets.)"""
    started: list[WorkerProcess] = []
    scratch = Path(tempfile.mkdtemp(prefix="ale-sync-worker-"))

    def start(beat: bool = False, **settings: str) -> WorkerProcess:
        env = {**worker_env, "TMPDIR": str(scratch), **settings}
        worker = start_worker(env, tmp_path / f"worker-{len(started)}.log", beat=beat)
        started.append(worker)
        wait_until_ready(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()
    shutil.rmtree(scratch, ignore_errors=True)
