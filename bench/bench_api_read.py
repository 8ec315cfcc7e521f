"""An API read of N students from the local OneRoster test peer, ingested, against ingesting the same
students from a CSV bundle, measured in one run; and the API side's peak RSS.

    python bench/bench_api_read.py              # 1,000,000 students
    python bench/bench_api_read.py -n 50000     # smaller

Each side runs as the product runs it, in a process of its own (so each has its own peak RSS), as
a first load of a district of its own in one scratch database: the CSV side pulls an inbox (hash,
archive, register) and ingests; the API side pulls the peer (token, pages, bundle written into
the archive, register) and ingests. Needs DATABASE_URL.

A SIS serves its API from its own machine. The peer shares this one, so by default it makes its
pages before the timed read and only sends them during it (the reader does all of its own work:
HTTP, JSON, checks, bundle, archive); `--live-peer` has it make each page when asked instead,
which adds the peer's JSON writing to the same two cores.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# the repository's root, for a script run as `python bench/<name>.py` (bench/ and tests/ are not
# installed packages)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_ingest import checkpoint, drop_database, scratch_database
from config.logging import configure_logging
from models.db import get_engine
from models.migrate import upgrade
from tests.peers.oneroster_peer import demographics, orgs, student
from tests.peers.running import peer_process
from worker.ingest import ingest_batch
from worker.pull import pull_sources

USERS = ["sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role", "username",
         "userIds", "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone",
         "agentSourcedIds", "grades", "password"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=1_000_000, help="students")
    parser.add_argument("--page-size", type=int, default=1_000)
    parser.add_argument(
        "--live-peer",
        action="store_true",
        help="the peer makes each page when asked (on these same cores) instead of before the timed read",
    )
    parser.add_argument("--side", choices=["csv", "api"], help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        run_side(args)
        return
    work = Path(tempfile.mkdtemp(prefix="ale-bench-api-"))
    try:
        started = time.perf_counter()
        write_bundle(work / "inbox" / "export", args.n)
        print(
            f"CSV bundle of {args.n} students written in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        # each side loads a database of its own, dropped before the other side runs: neither pays
        # for the other's million rows (autovacuum analysing them, a larger WAL to checkpoint)
        csv_side = in_scratch_database(lambda env: child("csv", work, env, args), work)
        peer = ["--students", str(args.n)] + (
            [] if args.live_peer else ["--render-pages", str(args.page_size)]
        )
        with peer_process("tests.peers.oneroster_peer", *peer) as (_, port):
            api_side = in_scratch_database(lambda env: child("api", work, env, args, port), work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratio = api_side["seconds"] / csv_side["seconds"]
    print(
        f"CSV bundle: pull + ingest     {csv_side['seconds']:8.2f} s   peak RSS {csv_side['rss_mb']:5.0f} MB"
    )
    print(
        f"API read:   pull + ingest     {api_side['seconds']:8.2f} s   peak RSS {api_side['rss_mb']:5.0f} MB"
    )
    print(f"  of which the read itself    {api_side['read_seconds']:8.2f} s")
    print(f"ratio API / CSV               {ratio:8.2f}x  (target <= 1.5x); API peak RSS target <= 300 MB")
    print(f"counts: csv {csv_side['counts']}  api {api_side['counts']}")


def in_scratch_database(run: Any, work: Path) -> dict[str, Any]:
    url = scratch_database()
    try:
        migrate(url)
        env = {**os.environ, "DATABASE_URL": url, "ARCHIVE_DIR": str(work / "archive")}
        result: dict[str, Any] = run(env)
        return result
    finally:
        drop_database(url)


def migrate(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    upgrade(get_engine(url))


def child(side: str, work: Path, env: dict[str, str], args: argparse.Namespace, port: int = 0) -> dict:
    command = [sys.executable, __file__, "--side", side, "--work", str(work), "-n", str(args.n)]
    command += ["--page-size", str(args.page_size), "--port", str(port)]
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_side(args: argparse.Namespace) -> None:
    """One side, in this process: configure the source, checkpoint, pull and ingest, report."""
    district = "17001" if args.side == "csv" else "27010"
    if args.side == "csv":
        source = {"district": district, "name": "csv-inbox", "inbox": str(args.work / "inbox")}
    else:
        os.environ["BENCH_PEER_SECRET"] = "peer-secret-not-for-production"
        base = f"http://127.0.0.1:{args.port}"
        source = {"district": district, "name": "api", "kind": "oneroster-api", "api": {
            "base_url": f"{base}/ims/oneroster/rostering/v1p2", "token_url": f"{base}/oauth/token",
            "client_id": "ale-sync-test", "client_secret": {"env": "BENCH_PEER_SECRET"},
            "page_size": args.page_size}}  # fmt: skip
    os.environ["SIS_SOURCES"] = json.dumps([source])
    os.environ["LOG_LEVEL"] = "WARNING"
    configure_logging("json", "WARNING")
    engine = get_engine()
    checkpoint(os.environ["DATABASE_URL"])
    started = time.perf_counter()
    (batch_id,) = pull_sources(engine, district)
    read = time.perf_counter() - started
    result = ingest_batch(engine, batch_id)
    seconds = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {"seconds": seconds, "read_seconds": read, "rss_mb": rss_mb, "counts": result.counts}
    print(json.dumps(report))


def write_bundle(folder: Path, count: int) -> None:
    """The peer's students as a OneRoster 1.1 CSV export (what an inbox would receive)."""
    folder.mkdir(parents=True)
    with (folder / "manifest.csv").open("w", newline="") as out:
        rows = [["propertyName", "value"], ["manifest.version", "1.0"], ["oneroster.version", "1.1"],
                ["file.demographics", "bulk"], ["file.orgs", "bulk"], ["file.users", "bulk"]]  # fmt: skip
        csv.writer(out).writerows(rows)
    with (folder / "orgs.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"]
        )
        for org in orgs():
            parent = org.get("parent", {}).get("sourcedId", "")
            fields = ("sourcedId", "status", "dateLastModified", "name", "type", "identifier")
            writer.writerow([*(org[f] for f in fields), parent])
    with (
        (folder / "users.csv").open("w", newline="") as users,
        (folder / "demographics.csv").open("w", newline="") as demo,
    ):
        user_rows, demo_rows = csv.writer(users), csv.writer(demo)
        user_rows.writerow(USERS)
        demo_rows.writerow(["sourcedId", "status", "dateLastModified", "birthDate", "sex"])
        for index in range(count):
            record = student(index, "1.1")
            ids = ",".join(f"{{{i['type']}:{i['identifier']}}}" for i in record["userIds"])
            user_rows.writerow([
                record["sourcedId"], record["status"], record["dateLastModified"], record["enabledUser"],
                record["orgs"][0]["sourcedId"], "student", record["username"], ids, record["givenName"],
                record["familyName"], record["middleName"], record["identifier"], "", "", "", "",
                ",".join(record["grades"]), "",
            ])  # fmt: skip
            born = demographics(index)
            demo_rows.writerow(
                [born[f] for f in ("sourcedId", "status", "dateLastModified", "birthDate", "sex")]
            )


if __name__ == "__main__":
    main()
