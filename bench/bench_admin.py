"""Admin endpoint latency under a load generator, against the health endpoint measured in the same run.

    python bench/bench_admin.py                          # 1,000,000 SIS records, 10,000 unlinked
    python bench/bench_admin.py --sis 50000 --created 1000 --requests 100

In a scratch database (on DATABASE_URL's server): migrate, seed one district with set-based
SQL, start `uvicorn admin.app:app` in a subprocess, then send a fixed number of requests per
kind from a thread pool of httpx clients. Prints p50/p95 of each kind, and its ratio to the
health endpoint's p50 (the cost of HTTP + the framework alone) measured in the same run.
Targets: p95 <= 50 ms for one page of the unlinked table, <= 100 ms for the name search.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# the repository's root, for a script run as `python bench/<name>.py` (bench/ and tests/ are not
# installed packages)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import create_engine, make_url, text

from bench.bench_matching import roster_names
from models.migrate import upgrade
from models.staff import hash_staff_token, new_staff_token
from models.student import partition_name
from tests.admin_support import running_admin

DISTRICT = "17001"


def names() -> tuple[list[str], list[str]]:
    """Real first names and surnames (the Ed-Fi Grand Bend roster, as bench_matching uses)."""
    return roster_names()


def seed(url: str, sis: int, created: int) -> str:
    """One district: schools, a registrar, SIS records and unlinked created records, all set-based."""
    token = new_staff_token()
    engine = create_engine(url)
    firsts, lasts = names()
    arrays = {"first": firsts, "last": lasts, "nf": len(firsts), "nl": len(lasts)}
    # surnames skewed as in bench_matching, so some surname blocks are large
    name_sql = (
        "(CAST(:first AS text[]))[CAST(1 + (i * 7919) % :nf AS int)]",
        "(CAST(:last AS text[]))[1 + floor(:nl * power(((i * 104729) % 1000003) / 1000003.0, 1.5))::int]",
    )
    with engine.begin() as db:
        db.execute(text("INSERT INTO districts (id, name) VALUES (:d, 'Bench District')"), {"d": DISTRICT})
        # the district's records in a partition of their own, as after its first SIS load
        db.execute(
            text(
                f"CREATE TABLE {partition_name(DISTRICT)} PARTITION OF students FOR VALUES IN ('{DISTRICT}')"
            )
        )
        db.execute(
            text(
                "INSERT INTO schools (district_id, sis_source_id, name, org_type)"
                " SELECT :d, 'sch-' || g, 'School ' || g, 'school' FROM generate_series(1, 40) g"
            ),
            {"d": DISTRICT},
        )
        staff_id = db.execute(
            text(
                "INSERT INTO staff (district_id, name, role, token_hash)"
                " VALUES (:d, 'Bench Registrar', 'registrar', :h) RETURNING id"
            ),
            {"d": DISTRICT, "h": hash_staff_token(token)},
        ).scalar_one()
        db.execute(
            text(
                "INSERT INTO students (district_id, origin, status, sis_source_id, ssid, other_id,"
                " first_name, last_name, birth_date, grade, school_id)"
                f" SELECT :d, 'sis', 'active', 'stu-' || i, lpad(i::text, 10, '0'), 'N' || i,"
                f" {name_sql[0]}, {name_sql[1]}, date '2008-01-01' + CAST(i % 4000 AS int),"
                " ((i % 13))::text, 'sch-' || (1 + i % 40)"
                " FROM generate_series(1, CAST(:n AS bigint)) i"
            ),
            {"d": DISTRICT, "n": sis, **arrays},
        )
        db.execute(
            text(
                "INSERT INTO students (district_id, origin, status, first_name, last_name,"
                " created_by_staff_id, created_at)"
                f" SELECT :d, 'created', 'active', {name_sql[0]}, {name_sql[1]}, :staff,"
                " now() - make_interval(mins => CAST(i % 500000 AS int))"
                " FROM generate_series(CAST(:start AS int), CAST(:end AS bigint)) i"
            ),
            {"d": DISTRICT, "start": sis + 1, "end": sis + created, "staff": staff_id, **arrays},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
        db.execute(text("VACUUM ANALYZE students"))
    engine.dispose()
    return token


def created_ids(url: str) -> list[int]:
    engine = create_engine(url)
    with engine.connect() as db:
        ids = db.execute(text("SELECT id FROM students WHERE origin = 'created' ORDER BY id")).scalars().all()
    engine.dispose()
    return list(ids)


def measure(send: Callable[[httpx.Client, int], httpx.Response], requests: int, threads: int) -> list[float]:
    """Milliseconds per request, `requests` of them from `threads` clients at once."""
    clients = [httpx.Client(timeout=30) for _ in range(threads)]

    def one(i: int) -> float:
        started = time.perf_counter()
        answer = send(clients[i % threads], i)
        elapsed = (time.perf_counter() - started) * 1000
        answer.raise_for_status()
        return elapsed

    with ThreadPoolExecutor(threads) as pool:
        for i in range(min(threads * 3, requests)):  # warm the connection pools and the plan cache
            one(i)
        times = list(pool.map(one, range(requests)))
    for client in clients:
        client.close()
    return times


def p(times: list[float], q: int) -> float:
    return statistics.quantiles(times, n=100, method="inclusive")[q - 1]


def run(base: str, token: str, ids: list[int], requests: int, threads: int) -> None:
    firsts, lasts = names()
    auth = {"Authorization": f"Bearer {token}"}
    pages = max(len(ids) // 50, 1)
    rng = random.Random(7)
    picks = [rng.choice(ids) for _ in range(requests + threads * 3)]
    page_picks = [rng.randint(1, pages) for _ in range(requests + threads * 3)]
    kinds: dict[str, tuple[Callable[[httpx.Client, int], httpx.Response], float | None]] = {
        "health (baseline)": (lambda c, i: c.get(f"{base}/health"), None),
        "unlinked table page": (
            lambda c, i: c.get(
                f"{base}/api/unlinked", params={"page": page_picks[i], "page_size": 50}, headers=auth
            ),
            50.0,
        ),
        "name search": (
            lambda c, i: c.get(f"{base}/api/unlinked/{picks[i]}/candidates", headers=auth),
            100.0,
        ),
        "student selector": (
            lambda c, i: c.post(
                f"{base}/api/selector/search",
                json={"query": f"{lasts[picks[i] % len(lasts)][:4]} {firsts[picks[i] % len(firsts)][:1]}"},
                headers=auth,
            ),
            None,
        ),
    }
    baseline = 0.0
    print(f"{'request':22} {'p50 ms':>8} {'p95 ms':>8} {'p50 ratio':>10}  target")
    for name, (send, target) in kinds.items():
        times = measure(send, requests, threads)
        p50, p95 = p(times, 50), p(times, 95)
        baseline = baseline or p50
        verdict = "" if target is None else f"p95 <= {target:.0f} ms: {'met' if p95 <= target else 'MISSED'}"
        print(f"{name:22} {p50:8.1f} {p95:8.1f} {p50 / baseline:9.1f}x  {verdict}")


def scratch_database() -> str:
    server = make_url(os.environ.get("DATABASE_URL") or sys.exit("set DATABASE_URL")).set(
        drivername="postgresql+psycopg"
    )
    name = f"ale_bench_admin_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = server.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def drop_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sis", type=int, default=1_000_000, help="SIS records in the district")
    parser.add_argument("--created", type=int, default=10_000, help="unlinked created records")
    parser.add_argument("--requests", type=int, default=300, help="requests per kind")
    parser.add_argument("--threads", type=int, default=2, help="concurrent clients")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database and print its URL")
    parser.add_argument("--reuse", metavar="URL", help="measure a database an earlier --keep run seeded")
    args = parser.parse_args()
    url = args.reuse or scratch_database()
    try:
        if args.reuse:
            token = new_token(url)
        else:
            started = time.perf_counter()
            token = seed(url, args.sis, args.created)
            seconds = time.perf_counter() - started
            print(f"seeded {args.sis:,} SIS + {args.created:,} created records in {seconds:.0f} s")
        print(f"{args.requests} requests per kind from {args.threads} concurrent clients")
        redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        # limits still counted (their Redis round trips are part of each request) but never reached
        unlimited = {f"RATE_LIMIT_REQUESTS_PER_{who}": "1000000/minute" for who in ("ADDRESS", "STAFF")}
        with running_admin(url, redis_url, LOG_LEVEL="WARNING", **unlimited) as base:
            run(base, token, created_ids(url), args.requests, args.threads)
    finally:
        if args.keep or args.reuse:
            print(f"kept {url}")
        else:
            drop_database(url)


def new_token(url: str) -> str:
    """A fresh token for the seeded registrar (only hashes are stored, so the old one is unknown)."""
    token = new_staff_token()
    engine = create_engine(url)
    with engine.begin() as db:
        db.execute(
            text("UPDATE staff SET token_hash = :h WHERE district_id = :d"),
            {"h": hash_staff_token(token), "d": DISTRICT},
        )
    engine.dispose()
    return token


if __name__ == "__main__":
    main()
