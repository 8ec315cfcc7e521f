"""A real Celery worker as a child process, and a way to wait until it has nothing left to do.

The demo runs the syncs through one; the end-to-end tests start, kill and restart them.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import redis
from sqlalchemy import Engine, func, select

from models import OutboxEvent
from models.db import transaction
from worker.schedule import redbeat_redis_url

QUEUE = "ale_sync"


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self, timeout: float = 20.0) -> None:
        """Warm shutdown: the running task finishes, then the worker exits."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown, the running task's message stays unacknowledged."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _stop_with_parent() -> None:
    """In the child before celery starts: Linux sends it SIGTERM (a warm shutdown) when the process
    that started it dies, even by SIGKILL, so a killed demo or test run leaves no worker behind."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def start_worker(
    env: dict[str, str], log_path: Path, *, concurrency: int = 2, beat: bool = False
) -> WorkerProcess:
    """`celery -A worker.celery_app worker` with ENV (DATABASE_URL, REDIS_URL, SIS_SOURCES ...)."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "worker.celery_app",
        "worker",
        "--loglevel",
        "INFO",
        "--concurrency",
        str(concurrency),
        "--prefetch-multiplier",
        "1",
        "--without-gossip",
        "--without-mingle",
    ]
    if beat:
        command.append("--beat")
    with log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(  # noqa: S603 - our own interpreter running celery
            command,
            env={**os.environ, "LOG_FORMAT": "json", **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so kill() reaches the pool children
            preexec_fn=_stop_with_parent,  # noqa: PLW1509 - only prctl, before celery starts
        )
    return WorkerProcess(process=process, log_path=log_path)


def wait_until_ready(worker: WorkerProcess, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while b"ready" not in worker.log_path.read_bytes():
        if worker.process.poll() is not None:
            raise RuntimeError("the worker exited while starting; see its log")
        if time.monotonic() > deadline:
            raise TimeoutError("the worker did not become ready")
        time.sleep(0.1)


def queue_depth(broker_url: str) -> int:
    client = redis.Redis.from_url(redbeat_redis_url(broker_url))
    try:
        # the sync client answers with ints; redis-py types each reply as `Awaitable[int] | int`
        return cast(int, client.llen(QUEUE)) + cast(int, client.hlen("unacked"))
    finally:
        client.close()


def unpublished_events(engine: Engine) -> int:
    with transaction(engine) as session:
        return int(session.scalar(select(func.count()).where(OutboxEvent.published_at.is_(None))) or 0)


def wait_until_idle(engine: Engine, broker_url: str, timeout: float = 60.0, settle: float = 0.6) -> None:
    """Wait until no event is unsent and no message is queued or being worked on, for SETTLE seconds."""
    deadline = time.monotonic() + timeout
    quiet_since: float | None = None
    while time.monotonic() < deadline:
        if queue_depth(broker_url) == 0 and unpublished_events(engine) == 0:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= settle:
                return
        else:
            quiet_since = None
        time.sleep(0.1)
    raise TimeoutError("the worker still had work after the timeout")
