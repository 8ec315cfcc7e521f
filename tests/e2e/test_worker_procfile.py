"""`honcho start` on the Procfile brings up web, worker and beat against one database and Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.worker_harness import OwnRedis, free_port

pytestmark = pytest.mark.slow


def test_honcho_start_brings_up_web_worker_and_beat(tmp_path: Path, database_url: str) -> None:
    server = OwnRedis(tmp_path)
    server.start()
    port = free_port()
    env = {**os.environ, "REDIS_URL": server.url, "LOG_FORMAT": "json", "COOKIE_SECURE": "false"}
    log = tmp_path / "honcho.log"
    with log.open("wb") as out:
        honcho = subprocess.Popen(
            ["honcho", "start", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while not all(
            mark in log.read_text() for mark in ("ready.", "beat: Acquired lock", "Uvicorn running")
        ):
            assert honcho.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=10).status_code == 200
    finally:
        os.killpg(honcho.pid, signal.SIGINT)
        honcho.wait(30)
        server.stop()
    text = log.read_text()
    for process in ("web.1", "worker.1", "beat.1"):
        assert f"{process} started" in text
