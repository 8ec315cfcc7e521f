"""`ale-sync demo`: the whole job end to end on an invented district, through a real worker.

Migrate; save the created records a registrar would make (each with a learning plan); start
a Celery worker; deliver the first SIS batch into the demo inbox and let the worker pull,
ingest and match it through the outbox events; deliver the second batch; print what was
linked, held and left unlinked, and why; stop the worker. Each run resets only its district.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.orm import Session

from config.services import database_url, redis_url
from matching.record_pass import match_created_record
from models import Base, Batch, District, LearningPlan, Origin, Student
from models.db import get_engine, transaction
from models.migrate import upgrade
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
# one demo at a time per database: two runs would reset each other's district
DEMO_LOCK = 990_001


def reset_demo_district(session: Session) -> None:
    """Start from a clean demo district so the demo can run any number of times."""
    session.execute(update(Student).where(Student.district_id == DEMO_DISTRICT).values(last_batch_id=None))
    # merged and planned records are protected by triggers; this names the one district wiped
    session.execute(select(func.set_config("ale.purge_district", DEMO_DISTRICT, True)))
    for table in reversed(Base.metadata.sorted_tables):
        if table.name != "districts" and "district_id" in table.c:
            session.execute(delete(table).where(table.c.district_id == DEMO_DISTRICT))
    session.execute(delete(District).where(District.id == DEMO_DISTRICT))


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


def demo_inbox() -> Path:
    """A fresh inbox per run: demos run by two users (or test processes) never share one."""
    inbox = Path(tempfile.mkdtemp(prefix="ale-sync-demo-")) / "inbox"
    inbox.mkdir()
    return inbox


def deliver(inbox: Path, name: str, rows: Sequence[tuple[str, ...]]) -> None:
    """Write the bundle beside the inbox, then move it in whole: a pull never sees half a delivery."""
    staging = inbox.parent / f".{name}"
    shutil.rmtree(staging, ignore_errors=True)
    write_bundle(staging, rows)
    staging.rename(inbox / name)


def worker_env(inbox: Path) -> dict[str, str]:
    source = {"district": DEMO_DISTRICT, "name": DEMO_SOURCE, "inbox": str(inbox), "format": "oneroster"}
    return {"DATABASE_URL": database_url(), "REDIS_URL": redis_url(), "SIS_SOURCES": json.dumps([source])}


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


def run_demo(console: Console) -> None:
    engine = get_engine()
    console.rule("ale-sync demo")
    upgrade(engine)
    console.print("1. database migrated")
    with transaction(engine) as session:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": DEMO_LOCK})
        reset_demo_district(session)
        save_created_records(session)
    publish_pending(engine, district_id=DEMO_DISTRICT)
    saved = len(CREATED_RECORDS)
    console.print(f"2. district {DEMO_DISTRICT}: {saved} created records saved, each with a learning plan")
    inbox = demo_inbox()
    worker = start_worker(worker_env(inbox), inbox.parent / "worker.log")
    try:
        wait_until_ready(worker)
        console.print(f"3. Celery worker started (pid {worker.process.pid}, log {worker.log_path})")
        deliver(inbox, "batch-1", FIRST_BATCH)
        sync_through_worker(engine, console, "4. first SIS batch")
        deliver(inbox, "batch-2", SECOND_BATCH)
        sync_through_worker(engine, console, "5. second SIS batch")
    except Exception:
        console.print(f"the demo failed; the worker's log is kept at {worker.log_path}")
        raise
    finally:
        worker.stop()
    console.print("6. worker stopped")
    shutil.rmtree(inbox.parent, ignore_errors=True)
    with transaction(engine) as session:
        console.print(outcome_table(session, DEMO_DISTRICT, CREATED_RECORDS))
