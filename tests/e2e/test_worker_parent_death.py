"""A worker started by a process that is then killed outright (SIGKILL, no handler runs) stops
too: a killed demo or test run leaves no worker to take later work from the broker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.worker_harness import wait_for

pytestmark = pytest.mark.slow

PARENT = """
import sys, time
from pathlib import Path
from worker.worker_process import start_worker, wait_until_ready
worker = start_worker({}, Path(sys.argv[1]))
wait_until_ready(worker)
print(worker.process.pid, flush=True)
time.sleep(120)
"""


def alive(pid: int) -> bool:
    """Running, not merely a zombie waiting to be reaped."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_worker_stops_when_the_process_that_started_it_is_killed(
    worker_env: dict[str, str], tmp_path: Path
) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(tmp_path / "worker.log")],
        env={**os.environ, **worker_env},
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    worker_pid = None
    try:
        assert parent.stdout is not None
        worker_pid = int(parent.stdout.readline())
        assert alive(worker_pid)

        parent.send_signal(signal.SIGKILL)
        parent.wait(10)

        wait_for(lambda: not alive(worker_pid), 30)
        assert b"ready" in (tmp_path / "worker.log").read_bytes()
    finally:
        parent.kill()
        parent.wait(10)
        if parent.stdout is not None:
            parent.stdout.close()
        if worker_pid is not None and alive(worker_pid):
            os.killpg(worker_pid, signal.SIGKILL)  # the worker leads its own process group
