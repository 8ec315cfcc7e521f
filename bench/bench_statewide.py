"""A statewide night: districts sized like Washington's, a bulk load, then a nightly delta of
about 1% to every district, run by the Procfile's worker with 1 and then 2 processes.

    python bench/bench_statewide.py                                    # 1,100,000 students, 300 districts
    python bench/bench_statewide.py --students 110000 --districts 300  # a tenth

Sizes follow a log-normal spread capped like the state's largest district (Seattle, about 4.5%
of the state): a few large districts, many small ones. Each district gets an inbox; the bulk
load is pulled, ingested and matched by the worker at the Procfile's concurrency. Then, for each
process count, every district receives a delta (0.7% changed, 0.2% new, 0.1% no longer
enrolled) and registrars have created records for half of the new students beforehand; a pull
of every district is queued (largest district first: the worst order for a first-come queue),
the worker is started, and the round ends when every delta is applied and every created record
linked.

Prints the spread, the makespan of each nightly round from the worker's start (the 1-process
round is the baseline of the ratio), per-district time from that start to its delta applied and
to its records linked (p50/p95/max, all districts and the small ones), and, from the worker's task log, how
often a larger district's task started while a smaller district's task was waiting (the
priority steps of worker/routing.py make that never happen: a small district waits at most for
tasks already running, one per slot).

Needs DATABASE_URL (a scratch database is made and dropped) and REDIS_URL naming a Redis
database for the bench alone: it is flushed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from math import exp
from pathlib import Path
from statistics import NormalDist

# the repository's root, for a script run as `python bench/<name>.py`
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis
from sqlalchemy import text

from bench.bench_ingest import drop_database, scratch_database
from config.services import database_url, redis_py_url, redis_url
from config.settings import get_settings
from models.db import dispose_engines, get_engine, transaction
from models.migrate import upgrade
from worker.enqueue import enqueue_pull  # the Celery app reads REDIS_URL when it first sends
from worker.routing import PRIORITY_STEPS, SIZE_CLASSES, size_class
from worker.sample_roster import USERS_HEADER, write_csv

ROOT = Path(__file__).resolve().parent.parent
LARGEST_SHARE = 0.045  # the largest district's share of the state's students
SIGMA = 1.6  # log-normal spread: median about 1,000 students at full scale, a third under 500
GIVEN = ["Ana", "Ben", "Carla", "Dmitri", "Esi", "Farah", "Gus", "Hana", "Ivan", "José", "Liam", "Mia"]
FAMILY = ["Nguyen", "Smith", "O'Brien", "García", "Lee", "Okafor", "Kowalski", "Haddad", "Patel", "Kim"]
GRADES = ["KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"]


def district_sizes(students: int, districts: int) -> list[int]:
    """Sizes from a log-normal's quantiles, the largest capped, scaled to STUDENTS; largest first."""
    raw = [exp(SIGMA * NormalDist().inv_cdf((i + 0.5) / districts)) for i in range(districts)]
    cap = max(LARGEST_SHARE * students, 4 * students / districts)
    for _ in range(20):  # cap, then spread what the cap took over the others, until it holds
        scale = students / sum(raw)
        raw = [min(r * scale, cap) for r in raw]
    sizes = sorted((max(5, round(r)) for r in raw), reverse=True)
    sizes[-1] += students - sum(sizes) if sizes[-1] + students - sum(sizes) >= 5 else 0
    return sizes


def code_of(index: int) -> str:
    return f"{10001 + index}"


@dataclass
class District:
    code: str
    size: int
    inbox: Path
    created_ssids: dict[int, list[str]] = field(default_factory=dict)  # round -> created records' SSIDs


def ssid_of(district_index: int, student: int) -> str:
    return f"{1_000_000_000 + district_index * 1_000_000 + student:010d}"


def user_row(district: int, student: int, status: str = "active", changed: bool = False) -> list[str]:
    given, family = GIVEN[student % len(GIVEN)], FAMILY[(student // len(GIVEN)) % len(FAMILY)]
    grade = GRADES[(student + (1 if changed else 0)) % len(GRADES)]
    values = {
        "sourcedId": f"s-{student}",
        "status": status,
        "enabledUser": "true",
        "orgSourcedIds": f"sch-{student % 5}",
        "role": "student",
        "userIds": f"{{SSID:{ssid_of(district, student)}}}",
        "givenName": given,
        "familyName": family,
        "identifier": str(100_000 + student),
        "grades": grade,
    }
    return [values.get(column, "") for column in USERS_HEADER]


def write_delivery(folder: Path, code: str, kind: str, rows: Iterator[list[str]]) -> None:
    """A OneRoster 1.1 bundle written beside the inbox and moved in whole, as an SIS export lands."""
    staging = folder.parent.parent / f".{folder.parent.name}-{folder.name}"
    staging.mkdir(parents=True)
    manifest = [["manifest.version", "1.0"], ["oneroster.version", "1.1"], ["file.orgs", "bulk"]]
    manifest += [["file.users", kind], ["file.demographics", "absent"]]
    write_csv(staging / "manifest.csv", ["propertyName", "value"], manifest)
    orgs = [[f"dist-{code}", "active", "", f"District {code}", "district", code, ""]]
    orgs += [
        [f"sch-{n}", "active", "", f"School {n}", "school", f"{code}{n}", f"dist-{code}"] for n in range(5)
    ]
    write_csv(staging / "orgs.csv", ["sourcedId", "status", "dateLastModified", "name", "type", "identifier",
                                     "parentSourcedId"], orgs)  # fmt: skip
    with (staging / "users.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(USERS_HEADER)
        writer.writerows(rows)
    staging.rename(folder)


def write_bulk(index: int, district: District) -> None:
    rows = (user_row(index, s) for s in range(district.size))
    write_delivery(district.inbox / "2026-09-01T0200-bulk", district.code, "bulk", rows)


def delta_plan(size: int) -> tuple[int, int, int]:
    """(changed, new, gone) for about 1% of a district: 0.7% changed, 0.2% new, 0.1% gone."""
    changes = max(2, round(size * 0.01))
    new = max(1, round(changes * 0.2))
    gone = round(changes * 0.1)
    return changes - new - gone, new, gone


def write_delta(index: int, district: District, round_number: int) -> list[int]:
    """This round's delta; the new students' numbers (registrars created records for half of them)."""
    changed, new, gone = delta_plan(district.size)
    step = max(1, district.size // max(1, changed + gone))
    touched = [(round_number + k * step) % district.size for k in range(changed + gone)]
    first_new = district.size + round_number * 100_000
    newcomers = list(range(first_new, first_new + new))
    rows = [user_row(index, s, changed=True) for s in touched[:changed]]
    rows += [user_row(index, s, status="tobedeleted") for s in touched[changed:]]
    rows += [user_row(index, s) for s in newcomers]
    write_delivery(
        district.inbox / f"2026-09-{1 + round_number:02d}T0200-delta", district.code, "delta", iter(rows)
    )
    return newcomers[: max(1, new // 2)]


def create_records(districts: list[District], round_number: int, newcomers: dict[str, list[int]]) -> int:
    """Created records with the SSIDs of students the delta brings, as registrars make them first."""
    rows = []
    for index, district in enumerate(districts):
        for student in newcomers[district.code]:
            ssid = ssid_of(index, student)
            district.created_ssids.setdefault(round_number, []).append(ssid)
            given, family = GIVEN[student % len(GIVEN)], FAMILY[(student // len(GIVEN)) % len(FAMILY)]
            rows.append({"d": district.code, "g": given, "f": family, "s": ssid})
    with transaction() as session:
        session.execute(
            text(
                "INSERT INTO students (district_id, origin, status, first_name, last_name, ssid)"
                " VALUES (:d, 'created', 'active', :g, :f, :s)"
            ),
            rows,
        )
    return len(rows)


# -- the worker ----------------------------------------------------------------------------------


def procfile_worker() -> str:
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("worker:"))
    if re.search(r"--concurrency \d+", line) is None:
        raise SystemExit("the Procfile's worker has no --concurrency: update the bench")
    return line.split(":", 1)[1].strip()


def worker_command(concurrency: int) -> list[str]:
    """The Procfile's worker line, with its --concurrency set to CONCURRENCY."""
    return re.sub(r"--concurrency \d+", f"--concurrency {concurrency}", procfile_worker()).split()


def configured_concurrency() -> int:
    return int(re.findall(r"--concurrency (\d+)", procfile_worker())[0])


@contextmanager
def running_worker(concurrency: int, log: Path) -> Iterator[datetime]:
    """The Procfile's worker at CONCURRENCY until the block ends and the queue is empty; the
    block gets the moment it reported ready (the round's start: its pulls are queued before)."""
    env = {**os.environ, "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            worker_command(concurrency), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while (ready := ready_at(log)) is None:
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the worker did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield ready
        wait_for_empty_queue()
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(120)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def ready_at(log: Path) -> datetime | None:
    for line in log.read_text(errors="replace").splitlines():
        if "ready." in line and line.lstrip().startswith("{"):
            return logged_at(json.loads(line))
    return None


def logged_at(entry: dict[str, str]) -> datetime:
    return datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00"))


def wait_for_empty_queue() -> None:
    """Until the worker took every message (follow-up matches included), so none spills into the
    next round."""
    client = redis.Redis.from_url(redis_py_url(os.environ["REDIS_URL"]))
    keys = ["ale_sync", *(f"ale_sync\x06\x16{step}" for step in PRIORITY_STEPS[1:])]
    while sum(client.llen(key) for key in keys):
        time.sleep(0.5)
    client.close()


def queue_pulls(districts: list[District]) -> None:
    """A pull of every district, largest first (the worst order for a first-come queue), queued
    before the worker starts, as beat queues them for workers already busy."""
    for district in districts:
        enqueue_pull(district.code)


FINISHED = "('applied', 'held', 'rejected', 'failed')"


# what an unlinked created record waits for, when a round times out
WAITING = """
SELECT s.district_id, s.id, h.reason,
  (SELECT count(*) FROM students x WHERE x.district_id = s.district_id
     AND x.origin = 'sis' AND x.ssid = s.ssid AND x.status = 'active') AS sis_with_ssid
FROM students s LEFT JOIN holds h ON h.created_record_id = s.id
WHERE s.origin = 'created' AND s.status = 'active'"""


def wait_for(condition: str, params: dict[str, object], expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with transaction() as session:
            done = session.execute(text(condition), params).scalar_one()
        if done >= expected:
            return
        if time.monotonic() > deadline:
            with transaction() as session:
                waiting = session.execute(text(WAITING)).all()
            raise SystemExit(f"timed out: {done} of {expected} ({condition}); unlinked: {waiting}")
        time.sleep(0.5)


def wait_for_round(districts: list[District], kind: str, round_number: int | None, timeout: float) -> None:
    wait_for(f"SELECT count(*) FROM batches WHERE kind = :k AND status IN {FINISHED}", {"k": kind},
             len(districts) * (1 if round_number is None else round_number), timeout)  # fmt: skip
    with transaction() as session:
        bad = session.execute(text("SELECT count(*) FROM batches WHERE status <> 'applied'")).scalar_one()
    if bad:
        raise SystemExit(f"{bad} batch(es) not applied: see `ale-sync batches`")
    if round_number is not None:
        ssids = [s for d in districts for s in d.created_ssids.get(round_number, [])]
        wait_for("SELECT count(*) FROM students WHERE origin = 'created' AND status = 'merged'"
                 " AND ssid = ANY(:s)", {"s": ssids}, len(ssids), timeout)  # fmt: skip


# -- what a round did ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundTimes:
    makespan: float
    applied: dict[str, float]  # district -> seconds from the round's start to its delta applied
    linked: dict[str, float]  # district -> seconds to its last created record linked


def round_times(districts: list[District], round_number: int, started: datetime) -> RoundTimes:
    with transaction() as session:
        applied = dict(
            session.execute(
                text("SELECT district_id, extract(epoch FROM max(finished_at) - :t) FROM batches"
                     " WHERE kind = 'delta' AND finished_at > :t GROUP BY district_id"), {"t": started},
            ).all()
        )  # fmt: skip
        ssids = [s for d in districts for s in d.created_ssids[round_number]]
        linked = dict(
            session.execute(
                text("SELECT a.district_id, extract(epoch FROM max(a.linked_at) - :t) FROM link_audit a"
                     " JOIN students s ON s.id = a.created_record_id AND s.district_id = a.district_id"
                     " WHERE s.ssid = ANY(:s) GROUP BY a.district_id"), {"t": started, "s": ssids},
            ).all()
        )  # fmt: skip
    applied = {k: float(v) for k, v in applied.items()}
    linked = {k: float(v) for k, v in linked.items()}
    return RoundTimes(max([*applied.values(), *linked.values()]), applied, linked)


@dataclass(frozen=True)
class TaskRun:
    task: str
    district: str
    size_class: int
    queued: float  # seconds from the round's start
    start: float
    end: float


def task_runs(log: Path, started: datetime, sizes: dict[str, int], batches: dict[int, str]) -> list[TaskRun]:
    """The round's pulls, ingests and matches from the worker's task_finished lines. A pull is
    queued at the start, an ingest when its district's pull ends, a match when its ingest ends."""
    finished: list[tuple[str, str, float, float]] = []
    for line in log.read_text(errors="replace").splitlines():
        if '"task_finished"' not in line:
            continue
        entry = json.loads(line[line.index("{") :])
        district = entry.get("district_id") or batches.get(int(entry.get("batch_id", 0)), "")
        end = (datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00")) - started).total_seconds()
        if end > 0 and district:
            finished.append((entry["task"].split(".")[-1], district, end - entry["duration_ms"] / 1000, end))
    previous = {"pull_district": None, "ingest_batch": "pull_district", "match_district": "ingest_batch"}
    ends = {(task, district): end for task, district, _, end in finished}
    runs = []
    for task, district, start, end in finished:
        before = previous.get(task)
        queued = 0.0 if before is None else ends.get((before, district), start)
        runs.append(TaskRun(task, district, size_class(sizes[district]), min(queued, start), start, end))
    return runs


def overtakes(runs: list[TaskRun], slack: float = 0.05) -> int:
    """Starts of a larger district's task while a smaller district's task was already waiting."""
    return sum(
        1
        for big in runs
        for small in runs
        if small.size_class < big.size_class and small.queued + slack < big.start < small.start - slack
    )


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    if not ordered:
        return "-"
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):7.2f} s   p95 {p95:7.2f} s   max {ordered[-1]:7.2f} s"


def report_round(processes: int, times: RoundTimes, runs: list[TaskRun], districts: list[District],
                 baseline: float | None) -> None:  # fmt: skip
    small = {d.code for d in districts if size_class(d.size) == 0}
    ratio = f"   ratio {times.makespan / baseline:.2f}x the 1-process round" if baseline else ""
    print(f"\nnightly round, {processes} worker process(es): makespan {times.makespan:7.2f} s{ratio}")
    print(f"  delta applied, all districts     {percentiles(list(times.applied.values()))}")
    print(f"  records linked, all districts    {percentiles(list(times.linked.values()))}")
    small_linked = [v for k, v in times.linked.items() if k in small]
    print(f"  records linked, {len(small):3d} in class 0  {percentiles(small_linked)}")
    large = [r for r in runs if r.size_class > 0]
    longest = max(large, key=lambda r: r.end - r.start, default=None)
    if longest is not None:
        seconds = longest.end - longest.start
        print(f"  longest task of a larger district: {longest.task} of {longest.district} ({seconds:.2f} s)")
        print("    the most a small district can wait for a slot that district holds")
    print(f"  a larger district's task started while a smaller one's waited: {overtakes(runs)} time(s)")


# -- the run -------------------------------------------------------------------------------------


def configure(url: str, work: Path, districts: list[District]) -> None:
    """This process and the worker it starts: the scratch database, the inboxes, a private archive."""
    sources = [{"district": d.code, "name": "sis", "inbox": str(d.inbox)} for d in districts]
    os.environ.update(DATABASE_URL=url, SIS_SOURCES=json.dumps(sources), ARCHIVE_DIR=str(work / "archive"))
    for cached in (get_settings, database_url, redis_url):
        cached.cache_clear()
    dispose_engines()
    redis.Redis.from_url(redis_py_url(os.environ["REDIS_URL"])).flushdb()


def print_database_size(students: int) -> None:
    """What the loaded state takes on disk, all told and per student (for sizing Postgres)."""
    with transaction() as session:
        total = session.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        records = session.execute(
            text("SELECT sum(pg_total_relation_size(inhrelid)) + pg_total_relation_size('students')"
                 " FROM pg_inherits WHERE inhparent = 'students'::regclass")
        ).scalar_one()  # fmt: skip
    print(f"database after the bulk load: {total / 2**20:,.0f} MB; students with their indexes "
          f"{records / 2**20:,.0f} MB ({records / students:,.0f} bytes a student)")  # fmt: skip


def print_spread(sizes: list[int]) -> None:
    under = sum(1 for s in sizes if s < 500)
    top10 = sum(sizes[:10]) / sum(sizes)
    classes = [sum(1 for s in sizes if size_class(s) == c) for c in range(len(SIZE_CLASSES) + 1)]
    largest = ", ".join(f"{s:,}" for s in sizes[:5])
    print(f"{len(sizes)} districts, {sum(sizes):,} students: largest {largest}; ", end="")
    print(f"median {statistics.median(sizes):,.0f}; {under} under 500; the 10 largest hold {top10:.0%}")
    print(f"districts per size class (worker/routing.py, bounds {SIZE_CLASSES}): {classes}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=1_100_000)
    parser.add_argument("--districts", type=int, default=300)
    parser.add_argument("--processes", default="1,2", help="worker processes of each nightly round")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds a round may take")
    args = parser.parse_args()
    sizes = district_sizes(args.students, args.districts)
    print_spread(sizes)
    work = Path(tempfile.mkdtemp(prefix="ale-statewide-"))
    districts = [District(code_of(i), size, work / "inbox" / code_of(i)) for i, size in enumerate(sizes)]
    url = scratch_database()
    try:
        run(url, work, districts, [int(p) for p in args.processes.split(",")], args.timeout)
    finally:
        drop_database(url)
        shutil.rmtree(work, ignore_errors=True)


def run(url: str, work: Path, districts: list[District], processes: list[int], timeout: float) -> None:
    for district in districts:
        district.inbox.mkdir(parents=True)
    configure(url, work, districts)
    upgrade(get_engine())
    clock = time.perf_counter()
    for index, district in enumerate(districts):
        write_bulk(index, district)
    print(f"bulk deliveries written in {time.perf_counter() - clock:.1f} s")
    queue_pulls(districts)
    with running_worker(configured_concurrency(), work / "worker-bulk.log") as started:
        wait_for_round(districts, "bulk", None, timeout)
        bulk = (datetime.now(UTC) - started).total_seconds()
    print(f"bulk load at the Procfile's concurrency ({configured_concurrency()}): {bulk:.1f} s")
    print_database_size(sum(d.size for d in districts))
    baseline = None
    sizes = {d.code: d.size for d in districts}
    for number, count in enumerate(processes, start=1):
        newcomers = {d.code: write_delta(i, d, number) for i, d in enumerate(districts)}
        create_records(districts, number, newcomers)
        log = work / f"worker-{count}.log"
        queue_pulls(districts)
        with running_worker(count, log) as started:
            wait_for_round(districts, "delta", number, timeout)
        times = round_times(districts, number, started)
        with transaction() as session:
            batches = dict(session.execute(text("SELECT id, district_id FROM batches")).all())
        report_round(count, times, task_runs(log, started, sizes, batches), districts, baseline)
        baseline = baseline or times.makespan


if __name__ == "__main__":
    main()
