"""Time from a batch's event to its links, with a real worker running, against the sweep alone.

    python bench/bench_link_latency.py               # 20 districts per run
    python bench/bench_link_latency.py -n 40 --sweep-seconds 30

Each district has a created record saved with an SSID, then gets a batch that carries its SIS
record. Ours: the batch applied as `ale-sync ingest` applies it (in this process, publishing
its event right after the commit) for half the districts, and by the worker (a queued pull,
then the worker's ingest) for the other half. Baseline, in the same run: the batch applied
without publishing (as `ale-sync ingest` did before), so only beat's outbox sweep, every
OUTBOX_SWEEP_SECONDS, wakes the worker. The link time is the link's time minus its batch
event's creation time, both from the database. Prints p50/p95/max for each and the ratio.
Needs DATABASE_URL (uses a scratch database); starts its own redis-server and worker (with beat).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# the repository's root, for a script run as `python bench/<name>.py` (bench/ and tests/ are not
# installed packages)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, create_engine, text

from bench.bench_ingest import drop_database, scratch_database
from config.logging import configure_logging
from config.settings import SourceConfig
from models.db import transaction
from models.migrate import upgrade
from tests.worker_harness import (
    OwnRedis,
    celery_pointed_at,
    deliver,
    save_created_record,
    sis_rows,
    source_env,
)
from worker.enqueue import enqueue_pull
from worker.ingest import ingest_batch
from worker.ingest.ledger import locked_batch
from worker.ingest.pipeline import run_batch
from worker.pull import register_delivery
from worker.sample_roster import write_bundle
from worker.worker_process import WorkerProcess, start_worker, wait_until_ready

ROWS = 200  # SIS students per batch; the created record's SSID is the last one's
LATENCY = text(
    """
    SELECT extract(epoch FROM l.linked_at - e.created_at)
    FROM link_audit l
    JOIN outbox_events e ON e.topic = 'batch_applied' AND (e.payload->>'batch_id')::bigint = l.batch_id
    WHERE l.district_id = ANY(:districts)
    """
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=20, help="districts per run (ours, baseline)")
    parser.add_argument("--sweep-seconds", type=int, default=30, help="the baseline's OUTBOX_SWEEP_SECONDS")
    args = parser.parse_args()
    configure_logging("console", "WARNING")
    folder = Path(tempfile.mkdtemp(prefix="ale-bench-latency-"))
    os.environ["ARCHIVE_DIR"] = str(folder / "archive")
    server = OwnRedis(folder)
    server.start()
    url = scratch_database()
    engine = create_engine(url)
    upgrade(engine)
    worker_districts = [f"96{n:04d}" for n in range(args.n // 2)]
    inboxes = {d: folder / "inbox" / d for d in worker_districts}
    for inbox in inboxes.values():
        inbox.mkdir(parents=True)
    env = {
        "DATABASE_URL": url,
        "REDIS_URL": server.url,
        "SIS_SOURCES": source_env(inboxes),
        "OUTBOX_SWEEP_SECONDS": str(args.sweep_seconds),
        "PULL_INTERVAL_SECONDS": "86400",
    }
    worker = start_worker(env, folder / "worker.log", beat=True)
    try:
        wait_until_ready(worker)
        with celery_pointed_at(server.url):
            cli_districts = [f"95{n:04d}" for n in range(args.n - len(worker_districts))]
            ours = run(engine, worker, folder, worker_districts, cli_districts)
            by_cli, by_worker = (
                link_latencies(engine, cli_districts),
                link_latencies(engine, worker_districts),
            )
            baseline = run_baseline(engine, worker, folder, [f"94{n:04d}" for n in range(args.n)])
    finally:
        worker.stop()
        engine.dispose()
        drop_database(url)
        server.stop()
    report("  applied as ale-sync ingest", by_cli)
    report("  applied by the worker", by_worker)
    report("published at commit", ours)
    report(f"sweep only ({args.sweep_seconds} s)", baseline)
    print(f"ratio p95 ours / sweep only: {percentile(ours, 95) / percentile(baseline, 95):.3f}x")


def run(
    engine: Engine, worker: WorkerProcess, folder: Path, by_worker: list[str], by_cli: list[str]
) -> list[float]:
    for district in [*by_worker, *by_cli]:
        save_created_record(engine, district, "Given", f"Family{ROWS - 1}", ssid=f"55{ROWS - 1:08d}")
    for worker_district, cli_district in zip(by_worker, by_cli, strict=False):
        deliver(folder / "inbox" / worker_district, "batch-1", sis_rows(ROWS))
        enqueue_pull(worker_district)
        ingest_batch(engine, register(engine, folder, cli_district))
    for district in by_cli[len(by_worker) :]:
        ingest_batch(engine, register(engine, folder, district))
    return wait_for_links(engine, worker, [*by_worker, *by_cli])


def run_baseline(engine: Engine, worker: WorkerProcess, folder: Path, districts: list[str]) -> list[float]:
    for district in districts:
        save_created_record(engine, district, "Given", f"Family{ROWS - 1}", ssid=f"55{ROWS - 1:08d}")
    for district in districts:
        apply_without_publishing(engine, register(engine, folder, district))
    return wait_for_links(engine, worker, districts)


def register(engine: Engine, folder: Path, district: str) -> int:
    bundle = write_bundle(folder / "bundles" / district, sis_rows(ROWS))
    source = SourceConfig(district=district, name="cli", inbox=bundle.parent, format="oneroster")
    with transaction(engine) as session:
        batch_id, _ = register_delivery(session, source, bundle)
    return batch_id


def apply_without_publishing(engine: Engine, batch_id: int) -> None:
    """The ingest's own transaction, with no publish after it: the event waits for the sweep."""
    with transaction(engine) as session:
        locked_batch(session, batch_id)
        run_batch(session, batch_id, force=False)


def wait_for_links(
    engine: Engine, worker: WorkerProcess, districts: list[str], timeout: float = 600
) -> list[float]:
    deadline = time.monotonic() + timeout
    latencies = link_latencies(engine, districts)
    while len(latencies) < len(districts):
        if time.monotonic() > deadline or worker.process.poll() is not None:
            raise RuntimeError(f"only {len(latencies)} of {len(districts)} linked; see {worker.log_path}")
        time.sleep(0.2)
        latencies = link_latencies(engine, districts)
    return latencies


def link_latencies(engine: Engine, districts: list[str]) -> list[float]:
    with transaction(engine) as session:
        return [float(s) for s in session.scalars(LATENCY, {"districts": districts})]


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def report(label: str, values: list[float]) -> None:
    print(
        f"{label:<26} n={len(values):3d}  p50 {percentile(values, 50):6.2f} s  "
        f"p95 {percentile(values, 95):6.2f} s  max {max(values):6.2f} s"
    )


if __name__ == "__main__":
    main()
