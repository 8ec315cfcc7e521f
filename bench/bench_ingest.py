"""Ingest speed and memory against the physical-limit baseline, measured in one run on one bundle.

    python bench/bench_ingest.py            # 1,000,000 students
    python bench/bench_ingest.py -n 50000   # smaller

Generates a OneRoster bundle with ../shared/tools/gen_roster.py, then in a scratch database:
the baseline (../shared/bench/baseline_copy_upsert.sql through psql: raw COPY + one upsert
into an indexed table), our fresh load of the same bundle, and our re-sync of the same
students delivered again (a new delivery, so a new batch, whose rows are all unchanged).
Prints both times, their ratios and the ingest's peak RSS. Needs DATABASE_URL and psql.

The baseline runs twice: as shipped, and with indexes equivalent to ours (the ratios are
taken against that one, as the target asks). Every index of our table that a SIS row enters
has its counterpart in the shipped script's table (our primary key (id, district_id) answers
its (id)) but one: the Student Selector's surname index. The script gets that one, on its own
columns; nothing else changes.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

# the repository's root, for a script run as `python bench/<name>.py` (bench/ and tests/ are not
# installed packages)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, make_url, text

from config.services import database_url
from config.settings import SourceConfig, get_settings
from models.db import dispose_engines, get_engine, transaction
from models.migrate import upgrade
from worker.ingest import ingest_batch
from worker.pull import register_delivery

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=1_000_000, help="students in the generated bundle")
    parser.add_argument("--bundle", type=Path, help="reuse a bundle gen_roster.py already wrote")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ale-bench-"))
    generated = args.bundle or generate(work / "bundle", args.n)
    bundle = one_district(generated, work / "one-district")
    url = scratch_database()
    try:
        shipped = run_baseline(url, bundle / "users.csv")
        baseline = run_baseline(url, bundle / "users.csv", EQUIVALENT_INDEXES)
        fresh, resync, rss_mb = run_ours(url, bundle, work)
    finally:
        drop_database(url)
        shutil.rmtree(work, ignore_errors=True)
    print(f"baseline as shipped            {shipped:8.2f} s")
    print(f"baseline, equivalent indexes   {baseline:8.2f} s")
    print(
        f"ingest fresh load              {fresh:8.2f} s   ratio {fresh / baseline:.2f}x (target <= 1.0x; "
        f"{fresh / shipped:.2f}x the shipped script)"
    )
    print(
        f"ingest unchanged re-sync       {resync:8.2f} s   ratio {resync / baseline:.2f}x of the baseline's "
        f"fresh load (target <= 0.5x; {resync / shipped:.2f}x the shipped script)"
    )
    print(f"ingest peak RSS                {rss_mb:8.0f} MB  (target <= 300 MB)")


def generate(out: Path, rows: int) -> Path:
    subprocess.run(
        [sys.executable, str(SHARED / "tools" / "gen_roster.py"), str(out), "-n", str(rows)], check=True
    )
    return out


def one_district(bundle: Path, out: Path) -> Path:
    """The same users as one district's export. gen_roster.py's orgs.csv puts half the schools under a
    second district org, whose students a district's source does not take in; the baseline loads
    every row, so for equal work the bench re-parents those schools under the first district."""
    out.mkdir()
    for name in ("manifest.csv", "users.csv", "demographics.csv"):
        os.link(bundle / name, out / name)  # a link to the same file: a symbolic link is refused
    with (bundle / "orgs.csv").open(newline="") as source, (out / "orgs.csv").open("w", newline="") as target:
        rows = list(csv.reader(source))
        header, orgs = rows[0], rows[1:]
        kind, parent = header.index("type"), header.index("parentSourcedId")
        first = next(org for org in orgs if org[kind] == "district")
        writer = csv.writer(target)
        writer.writerow(header)
        for org in orgs:
            if org[kind] == "district" and org is not first:
                continue
            if org[kind] != "district":
                org[parent] = first[0]
            writer.writerow(org)
    return out


def scratch_database() -> str:
    server = make_url(os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"ale_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    dispose_engines()
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


# added after the script's own indexes: the one our students table has for every SIS row that the
# script's table has no counterpart for
EQUIVALENT_INDEXES = """
CREATE INDEX ON base_student (district, lower(last_name));
"""


def run_baseline(url: str, users_csv: Path, extra_indexes: str = "") -> float:
    """The reference SQL through psql, timed end to end; EXTRA_INDEXES go after its own indexes."""
    script = (SHARED / "bench" / "baseline_copy_upsert.sql").read_text().replace("@CSV@", str(users_csv))
    if extra_indexes:
        last_index = "CREATE INDEX ON base_student (lower(last_name), lower(first_name));"
        if last_index not in script:
            raise SystemExit("the baseline script changed: update EQUIVALENT_INDEXES' anchor")
        script = script.replace(last_index, last_index + extra_indexes)
    checkpoint(url)
    target = make_url(url)
    command = ["psql", "-X", "-q", "-h", target.host or "127.0.0.1", "-p", str(target.port or 5432)]
    command += ["-U", target.username or "postgres", "-d", target.database or "", "-o", os.devnull]
    started = time.perf_counter()
    subprocess.run(command, input=script, text=True, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def checkpoint(url: str) -> None:
    """Every timed run starts from a checkpoint, so none pays for writing out the one before it."""
    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as connection:
        connection.execute(text("CHECKPOINT"))
    engine.dispose()


def run_ours(url: str, bundle: Path, work: Path) -> tuple[float, float, float]:
    """Fresh load, then the same students as a second delivery; seconds each and peak RSS in MB."""
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    database_url.cache_clear()
    engine = get_engine(url)
    upgrade(engine)
    source = SourceConfig(district="17001", name="bench", inbox=work)
    again = work / "again"
    shutil.copytree(bundle, again)
    with (again / "manifest.csv").open("a") as manifest:
        manifest.write("source.deliveryNote,resent\n")  # new bytes, same students: a new batch
    timings = []
    for delivery in (bundle, again):
        with transaction(engine) as session:
            batch_id, _ = register_delivery(session, source, delivery)
        checkpoint(url)
        started = time.perf_counter()
        result = ingest_batch(engine, batch_id)
        timings.append(time.perf_counter() - started)
        print(f"batch {batch_id}: {result.status} {result.counts}", file=sys.stderr)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return timings[0], timings[1], rss_mb


if __name__ == "__main__":
    main()
