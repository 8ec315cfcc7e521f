"""Outbox publish throughput against sending the same messages straight to Celery, in one run.

    python bench/bench_outbox.py            # 5,000 events
    python bench/bench_outbox.py -n 20000

Baseline: N district matches queued with `enqueue_match_district` (one district each, so
single flight collapses none), no database. Ours: N `batch_applied` outbox rows, one per
district, claimed with FOR UPDATE SKIP LOCKED, sent through the same function and marked
published by `publish_pending`. Both go to a redis-server this script starts on a free port
(never the machine's shared one). Needs DATABASE_URL; uses a scratch database.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

# the repository's root, for a script run as `python bench/<name>.py` (bench/ and tests/ are not
# installed packages)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert

from bench.bench_ingest import drop_database, scratch_database
from matching.core.vocabulary import Topic
from models import District
from models.db import transaction
from models.migrate import upgrade
from models.outbox import record_event
from tests.worker_harness import OwnRedis, celery_pointed_at
from worker.enqueue import enqueue_match_district
from worker.outbox import publish_pending

BASELINE_DISTRICTS = "97{:06d}"
OUTBOX_DISTRICTS = "98{:06d}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=5_000, help="events to publish")
    args = parser.parse_args()
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
    print(f"baseline enqueue          {baseline:7.2f} s  {args.n / baseline:8.0f} msg/s")
    print(
        f"outbox publish_pending    {ours:7.2f} s  {args.n / ours:8.0f} msg/s   ratio {ours / baseline:.2f}x"
    )


def send_directly(count: int) -> float:
    started = time.perf_counter()
    for n in range(count):
        enqueue_match_district(BASELINE_DISTRICTS.format(n), batch_id=n)
    return time.perf_counter() - started


def publish_from_outbox(url: str, count: int) -> float:
    engine = create_engine(url)
    upgrade(engine)
    districts = [OUTBOX_DISTRICTS.format(n) for n in range(count)]
    with transaction(engine) as session:
        session.execute(insert(District), [{"id": d, "name": "bench"} for d in districts])
        for n, district in enumerate(districts):
            record_event(session, Topic.BATCH_APPLIED, district, batch_id=n)
    started = time.perf_counter()
    report = publish_pending(engine, limit=count)
    elapsed = time.perf_counter() - started
    assert report.published == count, report
    engine.dispose()
    return elapsed


if __name__ == "__main__":
    main()
