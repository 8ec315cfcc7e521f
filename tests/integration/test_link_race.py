"""Two workers racing to link one created record, on real concurrent connections: one merge."""

from __future__ import annotations

import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, event, select, text

from matching.district_pass import match_district
from matching.link import LinkOutcome, link_created_record
from matching.refusals import Refusal
from models import LinkAudit, LinkMethod, Student, StudentStatus
from models.db import transaction
from tests.integration.test_match_support import count, created, district, plan, sis


def _setup(engine: Engine, targets: int) -> tuple[int, list[int]]:
    with transaction(engine) as session:
        d = district(session)
        record = created(session, d, "Ana", "Reyes", ssid="0123456789")
        plan(session, record)
        ids = [sis(session, d, "Ana", "Reyes", sis_source_id=f"s{i}").id for i in range(targets)]
        return record.id, ids


def _link(engine: Engine, created_id: int, sis_id: int) -> LinkOutcome | Refusal:
    try:
        with transaction(engine) as session:
            return link_created_record(
                session,
                district_id="17001",
                created_record_id=created_id,
                sis_record_id=sis_id,
                method=LinkMethod.NAME_SEARCH,
            )
    except Refusal as refused:
        return refused


def _waiting_on_a_lock(engine: Engine) -> bool:
    with engine.connect() as connection:
        waiting = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        ).scalar_one()
    return bool(waiting)


def test_a_second_worker_waits_for_the_first_and_then_sees_the_record_merged(
    committed_engine: Engine,
) -> None:
    created_id, (first_target, second_target) = _setup(committed_engine, 2)
    first_linked, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def first() -> None:
        with transaction(committed_engine) as session:
            results["first"] = link_created_record(
                session,
                district_id="17001",
                created_record_id=created_id,
                sis_record_id=first_target,
                method=LinkMethod.NAME_SEARCH,
            )
            first_linked.set()
            release.wait(30)

    holder = threading.Thread(target=first)
    holder.start()
    assert first_linked.wait(30)
    racer = threading.Thread(
        target=lambda: results.setdefault("second", _link(committed_engine, created_id, second_target))
    )
    racer.start()
    deadline = time.monotonic() + 30
    while not _waiting_on_a_lock(committed_engine) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "second" not in results, "the second worker must wait on the row lock"
    release.set()
    holder.join(30)
    racer.join(30)
    assert isinstance(results["first"], LinkOutcome)
    second = results["second"]
    assert isinstance(second, Refusal) and second.code == "already_linked_elsewhere"
    with transaction(committed_engine) as session:
        merged = session.get(Student, created_id)
        assert merged is not None and (merged.status, merged.merged_into_id) == (
            StudentStatus.MERGED,
            first_target,
        )
        assert count(session, LinkAudit) == 1


def test_many_workers_racing_on_one_record_merge_it_exactly_once(committed_engine: Engine) -> None:
    created_id, targets = _setup(committed_engine, 6)
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda target: _link(committed_engine, created_id, target), targets))
    linked = [r for r in results if isinstance(r, LinkOutcome)]
    assert len(linked) == 1
    assert all(
        isinstance(r, Refusal) and r.code == "already_linked_elsewhere" for r in results if r not in linked
    )
    with transaction(committed_engine) as session:
        audits = session.scalars(select(LinkAudit)).all()
        assert len(audits) == 1 and audits[0].plans_moved == 1


def test_two_district_passes_at_once_link_each_record_once(committed_engine: Engine) -> None:
    with transaction(committed_engine) as session:
        d = district(session)
        for i in range(20):
            record = created(session, d, "Ana", f"Reyes{i}", ssid=f"{i:010d}")
            plan(session, record)
            sis(session, d, "Ana", f"Reyes{i}", ssid=f"{i:010d}")

    def run_pass() -> int:
        with transaction(committed_engine) as session:
            return match_district(session, "17001").linked

    with ThreadPoolExecutor(max_workers=2) as pool:
        linked = sorted(pool.map(lambda _: run_pass(), range(2)))
    assert linked == [0, 20]
    with transaction(committed_engine) as session:
        assert count(session, LinkAudit) == 20


def test_two_records_of_one_child_linked_at_once_both_merge_without_deadlock(
    committed_engine: Engine,
) -> None:
    with transaction(committed_engine) as session:
        d = district(session)
        target = sis(session, d, "Ana", "Reyes", ssid="0123456789").id
        records = []
        for _ in range(2):
            record = created(session, d, "Ana", "Reyes")
            plan(session, record)
            records.append(record.id)
    # hold each linker just after it locked the SIS record, until the other got there too (or a
    # second passed): were the lock shared, both would then update the row and deadlock
    both_locked = threading.Barrier(2)

    def pause_after_sis_lock(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "origin = 'sis' AND id = ANY" in statement:
            with contextlib.suppress(threading.BrokenBarrierError):
                both_locked.wait(timeout=1)

    event.listen(committed_engine, "after_cursor_execute", pause_after_sis_lock)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda created_id: _link(committed_engine, created_id, target), records))
    finally:
        event.remove(committed_engine, "after_cursor_execute", pause_after_sis_lock)
    assert all(isinstance(r, LinkOutcome) and r.plans_moved == 1 for r in results)
    with transaction(committed_engine) as session:
        assert count(session, LinkAudit) == 2
