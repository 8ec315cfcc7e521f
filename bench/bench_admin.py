"""A district office at work: 8 staff clients at once on every page and API call staff make, against
the health endpoint measured in the same run.

    python bench/bench_admin.py                      # 1,000,000 SIS records, 10,000 unlinked
    python bench/bench_admin.py --sis 50000 --created 1000 --requests 60
    python bench/bench_admin.py --keep               # keep the scratch database; then --reuse URL

In a scratch database (on DATABASE_URL's server): migrate, seed one district with set-based SQL,
start `uvicorn admin.app:app` with 2 workers, sign each client in (a session cookie for the pages,
the token for the API), then let CLIENTS processes each walk the request kinds in a shuffled
round, REQUESTS rounds in all. Surnames are skewed as in large districts: one surname (Nguyen)
is held by COMMON_SHARE of the students, two more by 3% and 2%, the rest from the Grand Bend
roster with a skew. The created records are in every state (held, suggested, waiting, no id);
some were linked in the last 30 days. Prints p50/p95 per request kind, each p50's ratio to the
health endpoint's (the yardstick, also sent by every client in the same mix), the machine's load
average before and after, and the index entries and rows one request of each read kind touched.
Target: p95 <= 150 ms for every staff request kind.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import statistics
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
TARGET_MS = 150.0
COMMON = ("Nguyen", "Garcia", "Smith")  # the first holds COMMON_SHARE; the others 3% and 2%
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SELECTOR_QUERIES = (
    "nguyen",
    "garcia a",
    "smith j",
    "ava",
    "nguyen thi",
    "st john",
    "de los santos",
    "o'brien",
)

Send = Callable[[httpx.Client, random.Random], httpx.Response]


def seed(url: str, sis: int, created: int, common_share: float) -> str:
    """One district: schools, a registrar, SIS records and created records in every state."""
    token = new_staff_token()
    engine = create_engine(url)
    firsts, lasts = roster_names()
    lasts = [name for name in lasts if name not in COMMON]
    arrays = {
        "first": firsts, "last": lasts, "nf": len(firsts), "nl": len(lasts), "common": list(COMMON),
        "s1": common_share, "s2": common_share + 0.03, "s3": common_share + 0.05,
    }  # fmt: skip
    # u in [0, 1) per row: the common surnames take the first slices, the roster (skewed) the rest
    u = "(((i * 2654435761) % 1000003) / 1000003.0)"
    last_sql = (
        f"CASE WHEN {u} < :s1 THEN (CAST(:common AS text[]))[1]"
        f" WHEN {u} < :s2 THEN (CAST(:common AS text[]))[2] WHEN {u} < :s3 THEN (CAST(:common AS text[]))[3]"
        " ELSE (CAST(:last AS text[]))"
        "[1 + floor(:nl * power(((i * 104729) % 1000003) / 1000003.0, 1.5))::int]"
        " END"
    )
    first_sql = "(CAST(:first AS text[]))[CAST(1 + (i * 7919) % :nf AS int)]"
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
                f" {first_sql}, {last_sql}, date '2008-01-01' + CAST(i % 4000 AS int),"
                " ((i % 13))::text, 'sch-' || (1 + i % 40)"
                " FROM generate_series(1, CAST(:n AS bigint)) i"
            ),
            {"d": DISTRICT, "n": sis, **arrays},
        )
        _seed_created(db, sis, created, staff_id, first_sql, last_sql, arrays)
        _seed_batches(db)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
        db.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return token


def _seed_created(
    db, sis: int, created: int, staff_id: int, first_sql: str, last_sql: str, arrays: dict
) -> None:
    """Unlinked records (a third with an SSID nobody has yet, the rest without ids), 2% of them held,
    5% suggested; and, for Recently linked, 2,000 merged in the last 30 days with their audit rows."""
    db.execute(
        text(
            "INSERT INTO students (district_id, origin, status, first_name, last_name, ssid,"
            " created_by_staff_id, created_at)"
            f" SELECT :d, 'created', 'active', {first_sql}, {last_sql},"
            " CASE WHEN i % 3 = 0 THEN lpad((9000000000 + i)::text, 10, '0') END, :staff,"
            " now() - make_interval(mins => CAST(i % 500000 AS int))"
            " FROM generate_series(CAST(:start AS bigint), CAST(:end AS bigint)) i"
        ),
        {"d": DISTRICT, "start": sis + 1, "end": sis + created, "staff": staff_id, **arrays},
    )
    created_ids = "SELECT id, row_number() OVER (ORDER BY id) AS n FROM students WHERE origin = 'created'"
    db.execute(
        text(
            "INSERT INTO holds (created_record_id, district_id, reason, candidate_sis_record_id, detail)"
            f" SELECT c.id, :d, 'name_mismatch', 1 + c.n * 37 % :n,"
            " jsonb_build_object('candidate_ids', jsonb_build_array(1 + c.n * 37 % :n))"
            f" FROM ({created_ids}) c WHERE c.n % 50 = 3"
        ),
        {"d": DISTRICT, "n": sis},
    )
    db.execute(
        text(
            "INSERT INTO suggestions (district_id, created_record_id, sis_record_id, kind)"
            f" SELECT :d, c.id, 1 + c.n * 41 % :n, 'possible_sis_match'"
            f" FROM ({created_ids}) c WHERE c.n % 20 = 7"
        ),
        {"d": DISTRICT, "n": sis},
    )
    db.execute(
        text(
            "WITH m AS (INSERT INTO students (district_id, origin, status, first_name, last_name,"
            " merged_into_id, merged_at, created_by_staff_id, created_at)"
            f" SELECT :d, 'created', 'merged', {first_sql}, {last_sql}, 1 + i * 53 % :n, now(), :staff,"
            " now() - interval '20 days' FROM generate_series(1, 2000) i RETURNING id, merged_into_id)"
            " INSERT INTO link_audit (district_id, created_record_id, sis_record_id, method, actor_kind,"
            " actor_staff_id, plans_moved, linked_at)"
            " SELECT :d, id, merged_into_id, 'name_search', 'staff', :staff, 0,"
            " now() - make_interval(mins => CAST(id % 40000 AS int)) FROM m"
        ),
        {"d": DISTRICT, "staff": staff_id, "n": sis, **arrays},
    )


def _seed_batches(db) -> None:
    db.execute(
        text(
            "INSERT INTO batches (district_id, source_name, location, checksum, kind, status, rows_total,"
            " inserted, updated, unchanged, deactivated, quarantined, ignored, received_at, started_at,"
            " finished_at)"
            " SELECT :d, 'inbox', 'bench', 'sum-' || g, 'delta', 'applied', 100, 10, 20, 70, 0, 0, 0,"
            " now() - make_interval(hours => 6 * (30 - g)), now() - make_interval(hours => 6 * (30 - g)),"
            " now() - make_interval(hours => 6 * (30 - g)) FROM generate_series(1, 30) g"
        ),
        {"d": DISTRICT},
    )


def sample_ids(url: str) -> dict[str, list[int]]:
    engine = create_engine(url)
    queries = {
        "held": "SELECT created_record_id FROM holds ORDER BY created_record_id LIMIT 200",
        "unlinked": "SELECT id FROM students WHERE origin = 'created' AND status = 'active' LIMIT 2000",
        "sis": "SELECT id FROM students WHERE origin = 'sis' AND id % 997 = 0 LIMIT 500",
    }
    with engine.connect() as db:
        found = {kind: list(db.execute(text(sql)).scalars()) for kind, sql in queries.items()}
    engine.dispose()
    return found


def sign_in(base: str, token: str) -> tuple[httpx.Client, str]:
    """A client holding a page session (its cookie), and that session's CSRF token."""
    client = httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"})
    form = client.get(f"/login?district={DISTRICT}")  # the token form of a district without SSO
    csrf = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"token": token, "csrf_token": csrf})
    page = client.get("/selector")
    return client, CSRF.search(page.text).group(1)  # type: ignore[union-attr]


def kinds(ids: dict[str, list[int]], csrf: str, names: tuple[list[str], list[str]]) -> dict[str, Send]:
    """Every call staff make: pages with the session cookie, the JSON API with the token."""
    firsts, lasts = names

    def new_name(rng: random.Random) -> dict[str, str]:
        return {"first_name": rng.choice(firsts), "last_name": rng.choice([*COMMON, *lasts[:200]])}

    def pick(kind: str) -> Callable[[random.Random], int]:
        return lambda rng: rng.choice(ids[kind])

    held, unlinked, sis = pick("held"), pick("unlinked"), pick("sis")
    form = {"csrf_token": csrf}
    return {
        "health (yardstick)": lambda c, r: c.get("/health"),
        "page: link table": lambda c, r: c.get("/link"),
        "page: link table, all, newest": lambda c, r: c.get("/link?state=all&sort=newest"),
        "page: link table, find a name": lambda c, r: c.post(
            "/link", data={**form, "names": r.choice(COMMON)}
        ),
        "page: review a held record": lambda c, r: c.get(f"/link/{held(r)}/review"),
        "page: search by name": lambda c, r: c.get(f"/link/{unlinked(r)}/search"),
        "page: recently linked": lambda c, r: c.get("/link/recent"),
        "page: create form": lambda c, r: c.get("/students/new"),
        "page: create (duplicate check)": lambda c, r: c.post("/students/new", data={**form, **new_name(r)}),
        "page: student": lambda c, r: c.get(f"/students/{sis(r)}"),
        "page: plan confirm": lambda c, r: c.get(f"/students/{sis(r)}/plan"),
        "page: start plan": lambda c, r: c.post(f"/students/{sis(r)}/plan", data=form),
        "page: selector search": lambda c, r: c.post(
            "/selector", data={**form, "query": r.choice(SELECTOR_QUERIES)}
        ),
        "api: create": lambda c, r: c.post("/api/students", json=new_name(r)),
        "api: unlinked": lambda c, r: c.get("/api/unlinked", params={"state": "needs_person"}),
        "api: held": lambda c, r: c.get("/api/held"),
        "api: candidates": lambda c, r: c.get(f"/api/unlinked/{unlinked(r)}/candidates"),
        "api: selector": lambda c, r: c.post(
            "/api/selector/search", json={"query": r.choice(SELECTOR_QUERIES)}
        ),
        "api: recent links": lambda c, r: c.get("/api/links/recent"),
        "api: sync summary": lambda c, r: c.get("/api/sync-summary"),
    }


def p(times: list[float], q: int) -> float:
    return statistics.quantiles(times, n=100, method="inclusive")[q - 1] if len(times) > 1 else times[0]


def client_loop(
    base: str, token: str, ids: dict[str, list[int]], rounds: int, n: int
) -> dict[str, list[float]]:
    """One staff client: sign in, warm up, then ROUNDS shuffled rounds over every kind (ms per kind)."""
    times: dict[str, list[float]] = defaultdict(list)
    client, csrf = sign_in(base, token)
    rng = random.Random(n)
    mix = kinds(ids, csrf, roster_names())
    together = _SHARED["together"]
    try:
        for kind, send in mix.items():  # warm this client's connection and the server's plans
            if send(client, rng).status_code >= 400:
                raise RuntimeError(f"{kind}: refused while warming up")
    except BaseException:
        together.abort()  # the others stop waiting for this client (BrokenBarrierError) and the run ends
        raise
    together.wait()  # every client begins its rounds once all have warmed up
    for _ in range(rounds):
        order = list(mix.items())
        rng.shuffle(order)
        for kind, send in order:
            begun = time.perf_counter()
            answer = send(client, rng)
            elapsed = (time.perf_counter() - begun) * 1000
            if answer.status_code >= 400:
                raise RuntimeError(f"{kind}: {answer.status_code}")
            times[kind].append(elapsed)
    client.close()
    return dict(times)


_SHARED: dict[str, Any] = {}  # in each client process: the Barrier all the clients wait at


def _share(barrier: Any) -> None:
    _SHARED["together"] = barrier


def run(
    base: str, token: str, ids: dict[str, list[int]], rounds: int, clients: int
) -> dict[str, list[float]]:
    """CLIENTS processes, each one staff client making ROUNDS shuffled rounds over every kind;
    milliseconds per kind. Processes, not threads: 8 client threads in one interpreter queue for
    its lock, and that wait was counted as the server's."""
    context = multiprocessing.get_context("spawn")
    times: dict[str, list[float]] = defaultdict(list)
    with context.Pool(clients, initializer=_share, initargs=(context.Barrier(clients),)) as pool:
        answers = [pool.apply_async(client_loop, (base, token, ids, rounds, n)) for n in range(clients)]
        for answer in answers:
            for kind, values in answer.get().items():
                times[kind].extend(values)
    return times


def report(times: dict[str, list[float]]) -> None:
    yardstick = p(times["health (yardstick)"], 50)
    print(
        f"{'request':34} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p50/health':>11}"
        f"  target p95 <= {TARGET_MS:.0f} ms"
    )
    for kind, values in times.items():
        p50, p95 = p(values, 50), p(values, 95)
        verdict = "" if kind.startswith("health") else ("met" if p95 <= TARGET_MS else "MISSED")
        print(f"{kind:34} {len(values):5d} {p50:8.1f} {p95:8.1f} {p50 / yardstick:10.1f}x  {verdict}")


def rows_read(url: str, base: str, token: str, ids: dict[str, list[int]]) -> None:
    """Index entries and table rows that one request of each read kind touched, alone on the server
    (the statistics of the district's partition, flushed between requests)."""
    engine = create_engine(url)
    stats = text(
        "SELECT (SELECT coalesce(sum(idx_tup_read), 0) FROM pg_stat_user_indexes"
        " WHERE relname LIKE 'students%'),"
        " coalesce(sum(idx_tup_fetch), 0), coalesce(sum(seq_tup_read), 0) FROM pg_stat_user_tables"
        " WHERE relname LIKE 'students%'"
    )
    client, _csrf = sign_in(base, token)
    probes: dict[str, Callable[[], httpx.Response]] = {
        "selector: nguyen": lambda: client.post("/api/selector/search", json={"query": "nguyen"}),
        "selector: garcia a": lambda: client.post("/api/selector/search", json={"query": "garcia a"}),
        "selector: ava": lambda: client.post("/api/selector/search", json={"query": "ava"}),
        "link table page": lambda: client.get("/api/unlinked", params={"state": "needs_person"}),
        "candidates": lambda: client.get(f"/api/unlinked/{ids['unlinked'][5]}/candidates"),
    }
    print(f"\n{'one request, alone':22} {'index entries':>14} {'rows fetched':>13} {'rows scanned':>13}")
    flushed = 11  # seconds: an idle backend sends its statistics within 10 s
    time.sleep(flushed)
    with engine.connect() as db:
        after = db.execute(stats).one()
    for name, probe in probes.items():
        before = after
        probe().raise_for_status()
        time.sleep(flushed)
        with engine.connect() as db:
            after = db.execute(stats).one()
        read = [int(a - b) for a, b in zip(after, before, strict=True)]
        print(f"{name:22} {read[0]:14,d} {read[1]:13,d} {read[2]:13,d}")
    client.close()
    engine.dispose()


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sis", type=int, default=1_000_000, help="SIS records in the district")
    parser.add_argument("--created", type=int, default=10_000, help="unlinked created records")
    parser.add_argument("--common-share", type=float, default=0.06, help="share of the commonest surname")
    parser.add_argument("--requests", type=int, default=40, help="rounds over every kind, per client")
    parser.add_argument("--clients", type=int, default=8, help="concurrent staff clients")
    parser.add_argument("--workers", type=int, default=2, help="web worker processes")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database and print its URL")
    parser.add_argument("--reuse", metavar="URL", help="measure a database an earlier --keep run seeded")
    args = parser.parse_args()
    url = args.reuse or scratch_database()
    try:
        if args.reuse:
            token = new_token(url)
        else:
            started = time.perf_counter()
            token = seed(url, args.sis, args.created, args.common_share)
            seconds = time.perf_counter() - started
            print(f"seeded {args.sis:,} SIS + {args.created:,} created records in {seconds:.0f} s")
        ids = sample_ids(url)
        redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        # limits still counted (their Redis round trips are part of each request) but never reached;
        # sign-ins too: 9 a run, and a registrar may sign in 60 times an hour (a client refused
        # while warming up left the others waiting for it)
        unlimited = {
            f"RATE_LIMIT_{kind}_PER_{who}": "1000000/minute"
            for kind in ("REQUESTS", "SIGN_IN")
            for who in ("ADDRESS", "STAFF")
        }
        with running_admin(url, redis_url, workers=args.workers, LOG_LEVEL="WARNING", **unlimited) as base:
            print(
                f"{args.clients} clients x {args.requests} rounds of every kind; {args.workers} web workers"
            )
            print(f"load average before: {load_average()}")
            times = run(base, token, ids, args.requests, args.clients)
            print(f"load average after:  {load_average()}")
            report(times)
            rows_read(url, base, token, ids)
    finally:
        if args.keep or args.reuse:
            print(f"kept {url}")
        else:
            drop_database(url)


if __name__ == "__main__":
    main()
