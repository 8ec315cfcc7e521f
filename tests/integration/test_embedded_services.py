"""Zero-config services: processes started with no URLs share one embedded Postgres and Redis."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PROBE = """
import json
from sqlalchemy import create_engine, text
from config.services import database_url, redis_client_url, redis_url
import redis
engine = create_engine(database_url())
with engine.connect() as c:
    pid = c.execute(text("SELECT pg_postmaster_start_time()::text")).scalar_one()
info = redis.Redis.from_url(redis_client_url()).info("server")
print(json.dumps({"db": database_url(), "redis": redis_url(), "pg_started": pid,
                  "redis_pid": info["process_id"]}))
"""


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATA_DIR=str(data_dir), LOG_FORMAT="json")
    return env


@pytest.fixture
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("embedded")
    yield folder
    pid_file = folder / "redis.pid"
    if pid_file.exists():
        os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
    postmaster = folder / "pgdata" / "postmaster.pid"
    if postmaster.exists():
        os.kill(int(postmaster.read_text().splitlines()[0]), signal.SIGTERM)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_processes_started_together_share_one_postgres_and_one_redis(data_dir: Path) -> None:
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", PROBE],
            env=_env(data_dir),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, err
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    assert len({o["db"] for o in outputs}) == 1
    assert len({o["pg_started"] for o in outputs}) == 1
    assert len({o["redis_pid"] for o in outputs}) == 1
    assert outputs[0]["redis"] == f"redis+socket://{data_dir / 'redis.sock'}"
    assert str(data_dir / "pgdata") in outputs[0]["db"]

    shown = services(data_dir, "status", "--json")
    assert [(s["service"], s["state"]) for s in shown] == [("postgres", "running"), ("redis", "running")]
    assert shown[1]["pid"] == outputs[0]["redis_pid"]
    assert services(data_dir, "stop", "--json") == {"stopped": ["postgres", "redis"]}
    assert [s["state"] for s in services(data_dir, "status", "--json")] == ["stopped", "stopped"]


def services(data_dir: Path, *args: str) -> Any:
    """`ale-sync services ...` on DATA_DIR's embedded servers, its JSON answer."""
    result = subprocess.run(
        ["ale-sync", "services", *args],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_configured_urls_are_used_and_nothing_is_started(tmp_path: Path) -> None:
    code = "from config.services import database_url, redis_url; print(database_url()); print(redis_url())"
    env = {
        **_env(tmp_path),
        "DATABASE_URL": "postgresql://u@db.invalid/x",
        "REDIS_URL": "redis://r.invalid/0",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split() == ["postgresql+psycopg://u@db.invalid/x", "redis://r.invalid/0"]
    assert list(tmp_path.iterdir()) == []
