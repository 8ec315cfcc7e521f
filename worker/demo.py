"""`ale-sync demo`: the whole job end to end on an invented district, through a real worker, in a
place of its own that real use never sees.

The demo gets a database of its own (the configured server's database name + `_demo`), a Redis
database of its own (DEMO_REDIS_DB), and a folder of its own (DATA_DIR/demo: inbox and archive).
It migrates its database; saves the created records a registrar would make (each with a learning
plan); starts a Celery worker; delivers the first SIS batch into its inbox and lets the worker
pull, ingest and match it through the outbox events; delivers the second; prints what was linked,
held and left unlinked, and why, with the batch ids `ale-sync batches` shows; stops the worker.
Then it removes its database, Redis database and folder, unless --keep; the worker's log stays.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import redis
from rich.console import Console
from sqlalchemy import Engine, create_engine, make_url, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from config.embedded import data_home
from config.services import database_url, redis_py_url, redis_url, with_redis_db
from config.settings import get_settings
from matching.record_pass import match_created_record
from models import Batch, District, LearningPlan, Origin, Student
from models.db import dispose_engines, get_engine, transaction
from models.migrate import upgrade
from worker.cli_output import print_table
from worker.demo_report import outcome_table
from worker.enqueue import enqueue_pull
from worker.outbox import publish_pending
from worker.sample_roster import (
    CREATED_RECORDS,
    DEMO_DISTRICT,
    DEMO_DISTRICT_NAME,
    FIRST_BATCH,
    SECOND_BATCH,
    write_bundle,
)
from worker.worker_process import start_worker, wait_until_idle, wait_until_ready

DEMO_SOURCE = "demo-sis"


class DemoRefused(RuntimeError):
    """Another demo of this data directory is running, or its place cannot be made."""


@dataclass(frozen=True)
class DemoPlace:
    """Where the demo runs: nothing here is shared with real use."""

    database_url: str
    redis_url: str
    folder: Path  # inbox and archive; removed after the run unless --keep
    log_path: Path  # the worker's log; kept after the run

    def settings(self) -> dict[str, str]:
        """The environment that points any ale-sync process (the demo's worker, a command) at the demo."""
        source = {"district": DEMO_DISTRICT, "name": DEMO_SOURCE, "inbox": str(self.folder / "inbox")}
        return {
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "ARCHIVE_DIR": str(self.folder / "archive"),
            "SIS_SOURCES": json.dumps([source]),
            "SIS_SOURCES_FILE": "",
        }


def demo_place() -> DemoPlace:
    """The demo's database, Redis database and folders, beside (never inside) the configured ones."""
    settings = get_settings()
    server = make_url(database_url())
    home = data_home(settings.data_dir)
    return DemoPlace(
        database_url=server.set(database=f"{server.database or 'postgres'}_demo").render_as_string(
            hide_password=False
        ),
        redis_url=with_redis_db(redis_url(), settings.demo_redis_db),
        folder=home / "demo",
        log_path=home / "logs" / "demo-worker.log",
    )


@contextmanager
def one_demo_at_a_time(place: DemoPlace) -> Iterator[None]:
    """Two demos of one data directory would drop each other's database: the second is refused."""
    place.log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(place.log_path.parent / ".demo.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DemoRefused("another `ale-sync demo` is running") from None
        yield


def _server_admin(place: DemoPlace) -> Engine:
    return create_engine(make_url(place.database_url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def clear_place(place: DemoPlace, *, recreate: bool) -> None:
    """Drop the demo's database (and make it anew when RECREATE), empty its Redis database, remove
    its folder: every run starts from nothing, so its batch ids are 1 and 2."""
    dispose_engines()
    name = make_url(place.database_url).database
    admin = _server_admin(place)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if recreate:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError as error:
        raise DemoRefused(f"the demo cannot make its database {name} ({type(error.orig).__name__})") from None
    finally:
        admin.dispose()
    client = redis.Redis.from_url(redis_py_url(place.redis_url))
    client.flushdb()
    client.close()
    shutil.rmtree(place.folder, ignore_errors=True)


def enter_place(place: DemoPlace) -> None:
    """This process (and the worker it starts) now reads and writes only the demo's place."""
    os.environ.update(place.settings())
    for cached in (get_settings, database_url, redis_url):
        cached.cache_clear()
    dispose_engines()


def save_created_records(session: Session) -> None:
    """As "Create Student for ALE" does: the record and a learning plan; one saved with an id is
    matched in the same transaction (here it waits: no SIS batch has arrived yet)."""
    session.add(District(id=DEMO_DISTRICT, name=DEMO_DISTRICT_NAME))
    session.flush()
    for seed in CREATED_RECORDS:
        record = Student(
            district_id=DEMO_DISTRICT,
            origin=Origin.CREATED,
            first_name=seed.first_name,
            last_name=seed.last_name,
            ssid=seed.ssid,
            other_id=seed.other_id,
        )
        session.add(record)
        session.flush()
        session.add(
            LearningPlan(
                district_id=DEMO_DISTRICT,
                student_id=record.id,
                started_on_student_id=record.id,
                school_year="2026-27",
                start_date=date(2026, 11, 28),
            )
        )
        if seed.ssid or seed.other_id:
            match_created_record(session, DEMO_DISTRICT, record.id)


def deliver(inbox: Path, name: str, rows: Sequence[tuple[str, ...]]) -> None:
    """Write the bundle beside the inbox, then move it in whole: a pull never sees half a delivery."""
    staging = inbox.parent / f".{name}"
    shutil.rmtree(staging, ignore_errors=True)
    write_bundle(staging, rows)
    staging.rename(inbox / name)


def sync_through_worker(engine: Engine, console: Console, label: str) -> None:
    """Queue a pull exactly as beat does, then wait for the pull, ingest and match to finish."""
    started = time.monotonic()
    enqueue_pull(DEMO_DISTRICT)
    wait_until_idle(engine, redis_url(), timeout=120)
    with transaction(engine) as session:
        batch = session.scalars(
            select(Batch).where(Batch.district_id == DEMO_DISTRICT).order_by(Batch.id.desc()).limit(1)
        ).first()
    state = f"batch {batch.id} {batch.status}, {batch.inserted} new SIS student(s)" if batch else "no batch"
    console.print(f"{label}: {state} ({time.monotonic() - started:.1f}s)")


def _stopped(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwinds like Ctrl-C: the worker is stopped and the place cleared


def run_demo(console: Console, *, keep: bool = False) -> None:
    signal.signal(signal.SIGTERM, _stopped)
    place = demo_place()
    with one_demo_at_a_time(place):
        clear_place(place, recreate=True)
        enter_place(place)
        try:
            _story(console, place)
        finally:
            if not keep:
                clear_place(place, recreate=False)
    if keep:
        _how_to_look_around(console, place)
    else:
        console.print("the demo's database, Redis database and files are removed (keep them with --keep)")
    console.print(f"the worker's log is kept at {place.log_path}", markup=False, highlight=False)


def _story(console: Console, place: DemoPlace) -> None:
    console.rule("ale-sync demo")
    engine = get_engine()
    upgrade(engine)
    console.print("1. the demo's own database migrated (real districts never see it)")
    with transaction(engine) as session:
        save_created_records(session)
    publish_pending(engine, district_id=DEMO_DISTRICT)
    saved = len(CREATED_RECORDS)
    console.print(f"2. district {DEMO_DISTRICT}: {saved} created records saved, each with a learning plan")
    inbox = place.folder / "inbox"
    inbox.mkdir(parents=True)
    place.log_path.unlink(missing_ok=True)
    worker = start_worker(place.settings(), place.log_path)
    try:
        wait_until_ready(worker)
        console.print(f"3. Celery worker started (pid {worker.process.pid})")
        deliver(inbox, "batch-1", FIRST_BATCH)
        sync_through_worker(engine, console, "4. first SIS batch")
        deliver(inbox, "batch-2", SECOND_BATCH)
        sync_through_worker(engine, console, "5. second SIS batch")
    finally:
        worker.stop()
    console.print("6. worker stopped")
    with transaction(engine) as session:
        print_table(outcome_table(session, DEMO_DISTRICT, CREATED_RECORDS))
    dispose_engines()


def _how_to_look_around(console: Console, place: DemoPlace) -> None:
    settings = place.settings()
    exports = " ".join(f"{k}='{settings[k]}'" for k in ("DATABASE_URL", "REDIS_URL"))
    console.print("the demo is kept; look at it with the CLI by pointing it at the demo's place:")
    for command in ("batches list", "batches show 2", "unlinked", "holds"):
        console.print(f"  {exports} ale-sync {command}", markup=False, highlight=False, soft_wrap=True)
    console.print("`ale-sync demo` again starts it afresh; without --keep it cleans up after itself")
