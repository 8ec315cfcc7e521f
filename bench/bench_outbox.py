"""Outbox publish throughput against sending the same messages straight to Celery, in one run.

    python bench/bench_outbox.py            # 5,000 events
    python bench/bench_outbox.py -n 20000

Baseline: N `match_created_record` messages sent with apply_async, no database. Ours: N
`created_record_saved` outbox rows claimed with FOR UPDATE SKIP LOCKED, sent, and marked
published by `publish_pending`. Both go to a redis-server this script starts on a free port
(never the machine's shared one). Needs DATABASE_URL; uses a scratch database.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_ingest import drop_database, scratch_database  # noqa: E402  (bench/ is the script's folder)

DISTRICT = "98001"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=5_000, help="events to publish")
    args = parser.parse_args()
    from tests.worker_harness import OwnRedis, celery_pointed_at

    server = OwnRedis(Path(tempfile.mkdtemp(prefix="ale-bench-redis-")))
    server.start()
    url = scratch_database()
    try:
        with celery_pointed_at(server.url):
            baseline = send_directly(args.n)
            ours = publish_from_outbox(url, args.n)
    finally:
        drop_database(url)
        server.stop()
    print(f"baseline apply_async      {baseline:7.2f} s  {args.n / baseline:8.0f} msg/s")
    print(
        f"outbox publish_pending    {ours:7.2f} s  {args.n / ours:8.0f} msg/s   ratio {ours / baseline:.2f}x"
    )


def send_directly(count: int) -> float:
    from worker.tasks import match_created_record_task

    started = time.perf_counter()
    for record_id in range(count):
        match_created_record_task.apply_async(
            kwargs={"district_id": DISTRICT, "created_record_id": record_id}
        )
    return time.perf_counter() - started


def publish_from_outbox(url: str, count: int) -> float:
    from sqlalchemy import create_engine

    from matching.core.vocabulary import Topic
    from models import District
    from models.db import transaction
    from models.migrate import upgrade
    from models.outbox import record_events
    from worker.outbox import publish_pending

    engine = create_engine(url)
    upgrade(engine)
    with transaction(engine) as session:
        session.add(District(id=DISTRICT, name="bench"))
        session.flush()
        payloads = [{"created_record_id": i} for i in range(count)]
        record_events(session, Topic.CREATED_RECORD_SAVED, DISTRICT, payloads)
    started = time.perf_counter()
    report = publish_pending(engine, limit=count)
    elapsed = time.perf_counter() - started
    assert report.published == count, report
    engine.dispose()
    return elapsed


if __name__ == "__main__":
    main()
