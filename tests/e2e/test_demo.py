"""`ale-sync demo` as a newcomer runs it: a real worker process, the whole flow, in a database,
Redis database and folder of its own that real use never sees, cleaned up unless --keep."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, create_engine, make_url, text

from worker.sample_roster import DEMO_DISTRICT

# two demos, each starting a real worker: minutes on a busy machine
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

OUTCOMES = """
SELECT s.last_name, s.status, a.method, a.batch_id, h.reason
FROM students s
LEFT JOIN link_audit a ON a.created_record_id = s.id
LEFT JOIN holds h ON h.created_record_id = s.id
WHERE s.district_id = :d AND s.origin = 'created'
ORDER BY s.id"""


def demo(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["ale-sync", "demo", *args], capture_output=True, text=True, env=env, check=False, timeout=200
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def databases(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(text("SELECT datname FROM pg_database")).scalars())


def test_the_demo_links_holds_and_leaves_unlinked_through_a_real_worker_in_a_place_of_its_own(
    committed_engine: Engine, database_url: str, redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    demo_db = f"{make_url(database_url).database}_demo"
    env = {**os.environ, "LOG_FORMAT": "json", "COLUMNS": "200", "DATA_DIR": str(tmp_path),
           "DEMO_REDIS_DB": str(redis_client.connection_pool.connection_kwargs.get("db", 0))}  # fmt: skip

    kept = demo("--keep", env=env)
    assert "4. first SIS batch: batch 1 applied" in kept.stdout
    assert "5. second SIS batch: batch 2 applied" in kept.stdout
    assert "ale-sync batches show 2" in kept.stdout
    demo_engine = create_engine(make_url(database_url).set(database=demo_db))
    try:
        with demo_engine.connect() as connection:
            outcomes = [tuple(r) for r in connection.execute(text(OUTCOMES), {"d": DEMO_DISTRICT})]
            plans_on_sis = connection.execute(
                text(
                    "SELECT count(*) FROM learning_plans p JOIN students s ON s.id = p.student_id "
                    "WHERE p.district_id = :d AND s.origin = 'sis'"
                ),
                {"d": DEMO_DISTRICT},
            ).scalar_one()
    finally:
        demo_engine.dispose()
    assert outcomes == [
        ("Okafor", "merged", "ssid", 1, None),
        ("Garcia Lopez", "merged", "other_id", 1, None),
        ("Lee", "active", None, None, None),
        ("Raman", "active", None, None, "name_mismatch"),
        ("De La Cruz", "merged", "ssid", 2, None),  # its SIS record came in the second batch
    ]
    assert plans_on_sis == 3  # the three linked records' plans moved to their SIS records
    with committed_engine.connect() as connection:  # real use never sees the demo district
        assert connection.execute(text("SELECT count(*) FROM districts")).scalar_one() == 0

    again = demo(env=env)  # runs afresh, and without --keep removes its place, the kept one too
    assert "held: name_mismatch" in again.stdout
    assert demo_db not in databases(committed_engine)  # cleaned up: no database, no keys, no files
    assert redis_client.dbsize() == 0
    assert not (tmp_path / "demo").exists()
    log = tmp_path / "logs" / "demo-worker.log"
    assert str(log) in again.stdout.replace("\n", "") and b"ready" in log.read_bytes()
